"""Where voicemail to email (R23) is sent from: an SMTP server set by configuration.

PBX_SMTP_HOST (unset: voicemail to email is off), PBX_SMTP_PORT (25), PBX_SMTP_FROM,
and for a server that wants them PBX_SMTP_STARTTLS=1, PBX_SMTP_USER, PBX_SMTP_PASSWORD.
PBX_VOICEMAIL_SPOOL points at Asterisk's voicemail spool when Asterisk is not the
local instance (a container sharing the volume). A module of its own so that
pbx.settings (ports and state) stays free of mail concerns.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PORT = 25
DEFAULT_SENDER = "voicemail@localhost"
TIMEOUT_S = 10.0
_SENDER = re.compile(r"[^\s<>\"',;]+@[^\s<>\"',;]+")


@dataclass(frozen=True)
class MailSettings:
    host: str = ""
    port: int = DEFAULT_PORT
    sender: str = DEFAULT_SENDER
    starttls: bool = False
    user: str = ""
    password: str = ""
    spool: Path | None = None
    timeout: float = TIMEOUT_S

    @property
    def enabled(self) -> bool:
        return bool(self.host)

    @classmethod
    def from_env(cls) -> "MailSettings":
        port = os.environ.get("PBX_SMTP_PORT") or str(DEFAULT_PORT)
        if not port.isdigit():
            raise ValueError(f"PBX_SMTP_PORT must be a port number, not {port!r}")
        sender = os.environ.get("PBX_SMTP_FROM") or DEFAULT_SENDER
        # The operator's own setting, but it becomes a header: a plain address only.
        if not _SENDER.fullmatch(sender):
            raise ValueError(f"PBX_SMTP_FROM must be a plain address like voicemail@example.com, not {sender!r}")
        spool = os.environ.get("PBX_VOICEMAIL_SPOOL")
        return cls(host=os.environ.get("PBX_SMTP_HOST", "").strip(), port=int(port), sender=sender,
                   starttls=os.environ.get("PBX_SMTP_STARTTLS", "") in ("1", "yes", "true"),
                   user=os.environ.get("PBX_SMTP_USER", ""), password=os.environ.get("PBX_SMTP_PASSWORD", ""),
                   spool=Path(spool) if spool else None)
