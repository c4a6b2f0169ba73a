"""Asterisk's AMI secret and ARI password: set in the settings, else generated per installation.

Never a fixed default: a default secret is every installation's secret. Unset
(PBX_AMI_SECRET, PBX_ARI_PASSWORD), each is generated once -- random, into the state
directory with mode 0600 -- and read back from there by every process of the
installation (`pbx up`, the controller, the web UI's health check), like the web UI's
session key (webui/secret.py). Several machines: set them in the settings.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import secrets
import tempfile
from pathlib import Path

from pbx.settings import Settings

AMI_SECRET_FILE = "ami-secret"
ARI_PASSWORD_FILE = "ari-password"
SECRET_BYTES = 24  # 48 hex digits: letters and digits only, safe in Asterisk's config files
FILE_MODE = 0o600


def state_secret(state_dir: Path, name: str, nbytes: int = SECRET_BYTES) -> str:
    """The secret `name` in state_dir, generated the first time (mode 0600).

    Written whole into a private temporary file, then linked into place: two processes
    starting together both end with the first one's secret, and none ever reads half a file."""
    path = state_dir / name
    with contextlib.suppress(FileNotFoundError):
        return _read(path)
    state_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=state_dir)  # mkstemp: mode 0600
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(nbytes) + "\n")
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        os.unlink(tmp)
    return _read(path)


def _read(path: Path) -> str:
    if path.stat().st_mode & 0o077:
        os.chmod(path, FILE_MODE)  # never left readable by others
    value = path.read_text().strip()
    if not value:
        raise ValueError(f"{path} is empty: remove it to have a new secret generated")
    return value


def ami_secret(settings: Settings) -> str:
    return settings.ami_secret or state_secret(settings.state_dir, AMI_SECRET_FILE)


def ari_password(settings: Settings) -> str:
    return settings.ari_password or state_secret(settings.state_dir, ARI_PASSWORD_FILE)


def with_credentials(settings: Settings) -> Settings:
    """settings with both secrets filled in (generated if need be): they then travel with it,
    whatever its state_dir becomes."""
    return dataclasses.replace(settings, ami_secret=ami_secret(settings), ari_password=ari_password(settings))
