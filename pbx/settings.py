"""Where pbx keeps its state and which local ports it uses.

Everything comes from the environment so that a developer's `pbx up`, the test
suite and a benchmark can each run their own Asterisk side by side on
127.0.0.1 without stepping on each other.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit():
        raise ValueError(f"{name} must be a port number, not {raw!r}")
    return int(raw)


@dataclass(frozen=True)
class AsteriskPorts:
    sip: int = 5060
    ami: int = 5038
    http: int = 8088  # ARI and the HTTP server share it
    trunk_outbound: int = 5098  # where the outside world listens for our outgoing calls


@dataclass(frozen=True)
class Settings:
    state_dir: Path
    cache_dir: Path
    database_url: str
    instance: str
    ports: AsteriskPorts
    web_host: str = "127.0.0.1"
    web_port: int = 8000
    ami_user: str = "pbx"
    ami_secret: str = "pbx-ami-secret"
    ari_user: str = "pbx"
    ari_password: str = "pbx-ari-secret"
    # A caller from the trunk is recognised by this header (handsets share 127.0.0.1).
    trunk_header: str = "X-PBX-Trunk"
    trunk_secret: str = "pbx-trunk-secret"
    conf_dir: Path = field(default=REPO_ROOT / "asterisk-conf")
    dialplan_dir: Path = field(default=REPO_ROOT / "dialplan")

    @classmethod
    def from_env(cls) -> "Settings":
        state_dir = Path(os.environ.get("PBX_STATE_DIR") or Path.home() / ".local/state/pbx")
        cache_dir = Path(os.environ.get("PBX_CACHE_DIR") or Path.home() / ".cache/pbx")
        database_url = os.environ.get("PBX_DATABASE_URL") or f"sqlite:///{state_dir / 'pbx.db'}"
        ports = AsteriskPorts(
            sip=_int_env("PBX_SIP_PORT", 5060),
            ami=_int_env("PBX_AMI_PORT", 5038),
            http=_int_env("PBX_HTTP_PORT", 8088),
            trunk_outbound=_int_env("PBX_TRUNK_OUTBOUND_PORT", 5098),
        )
        return cls(
            state_dir=state_dir,
            cache_dir=cache_dir,
            database_url=database_url,
            instance=os.environ.get("PBX_INSTANCE", "dev"),
            ports=ports,
            web_port=_int_env("PBX_WEB_PORT", 8000),
            trunk_secret=os.environ.get("PBX_TRUNK_SECRET", "pbx-trunk-secret"),
        )
