"""The key that signs session cookies and CSRF tokens.

It comes from the settings (PBX_SECRET_KEY), or is generated once into the state
directory so a restart keeps everyone's CSRF tokens valid and a fresh install needs
no setup.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

KEY_FILE = "web-secret-key"
KEY_BYTES = 32


def secret_key(state_dir: Path) -> str:
    """The key generated into state_dir (once), for when the settings give none."""
    path = state_dir / KEY_FILE
    if path.exists():
        return path.read_text().strip()
    state_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(KEY_BYTES)
    # O_EXCL: two processes starting together keep the first key, never a mix.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key
