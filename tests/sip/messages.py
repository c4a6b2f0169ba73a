"""Read the SIP messages sipp logged (`-trace_msg`), so tests can assert on
exactly what arrived on the wire: request URI, From, PAI, Privacy, Diversion.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

COMPACT = {
    "f": "from",
    "t": "to",
    "v": "via",
    "i": "call-id",
    "m": "contact",
    "l": "content-length",
    "c": "content-type",
    "k": "supported",
}
_SEPARATOR = re.compile(r"^-{20,}")
_DIRECTION = re.compile(r"^\S+ message (received|sent)")
_NAME_ADDR = re.compile(r'^\s*(?:"((?:[^"\\]|\\.)*)"|([^<"]*?))\s*<([^>]*)>')
_USER = re.compile(r"^(?:sips?|tel):([^@;>]*)")


@dataclass
class SipMessage:
    direction: str  # "received" or "sent", seen from sipp
    start_line: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: str = ""

    @property
    def method(self) -> str | None:
        return None if self.start_line.startswith("SIP/2.0") else self.start_line.split()[0]

    @property
    def status(self) -> int | None:
        if not self.start_line.startswith("SIP/2.0"):
            return None
        return int(self.start_line.split()[1])

    @property
    def request_uri(self) -> str | None:
        return None if self.method is None else self.start_line.split()[1]

    def header(self, name: str) -> str | None:
        """First value of a header (case-insensitive, compact forms understood)."""
        values = self.header_all(name)
        return values[0] if values else None

    def header_all(self, name: str) -> list[str]:
        wanted = name.lower()
        return [v for k, v in self.headers if COMPACT.get(k.lower(), k.lower()) == wanted]

    @property
    def in_dialog(self) -> bool:
        return ";tag=" in (self.header("to") or "")


@dataclass(frozen=True)
class NameAddr:
    display: str | None
    uri: str
    user: str | None


def parse_name_addr(value: str | None) -> NameAddr | None:
    """`"Name" <sip:user@host>;tag=x` -> NameAddr("Name", "sip:user@host", "user")."""
    if not value:
        return None
    match = _NAME_ADDR.match(value)
    if match:
        display = match.group(1) if match.group(1) is not None else (match.group(2) or None)
        uri = match.group(3)
    else:
        display, uri = None, value.split(";", 1)[0].strip()
    if display is not None:
        display = display.replace('\\"', '"').replace("\\\\", "\\")
    user = _USER.match(uri)
    return NameAddr(display, uri, user.group(1) if user else None)


@dataclass
class Invite:
    """An initial INVITE as the receiving handset saw it."""

    message: SipMessage

    @property
    def request_uri(self) -> str:
        return self.message.request_uri or ""

    @property
    def request_user(self) -> str | None:
        match = _USER.match(self.request_uri)
        return match.group(1) if match else None

    @property
    def from_(self) -> NameAddr | None:
        return parse_name_addr(self.message.header("from"))

    @property
    def to(self) -> NameAddr | None:
        return parse_name_addr(self.message.header("to"))

    @property
    def pai(self) -> NameAddr | None:
        return parse_name_addr(self.message.header("p-asserted-identity"))

    @property
    def privacy(self) -> str | None:
        return self.message.header("privacy")

    @property
    def diversion(self) -> list[str]:
        return self.message.header_all("diversion")

    def header(self, name: str) -> str | None:
        return self.message.header(name)


def parse_message_log(path: Path) -> list[SipMessage]:
    """All messages in a sipp -trace_msg file, in order (empty if none yet)."""
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return []
    messages: list[SipMessage] = []
    blocks: list[list[str]] = [[]]
    for line in text.splitlines():
        if _SEPARATOR.match(line):
            blocks.append([])
        else:
            blocks[-1].append(line.rstrip("\r"))
    for block in blocks:
        message = _parse_block(block)
        if message is not None:
            messages.append(message)
    return messages


def _parse_block(lines: list[str]) -> SipMessage | None:
    direction = None
    for index, line in enumerate(lines):
        found = _DIRECTION.match(line)
        if found:
            direction = found.group(1)
            lines = lines[index + 1 :]
            break
    if direction is None:
        return None
    while lines and not lines[0].strip():
        lines = lines[1:]
    if not lines or "SIP/2.0" not in lines[0]:
        return None
    message = SipMessage(direction=direction, start_line=lines[0].strip())
    body_at = len(lines)
    for index, line in enumerate(lines[1:], start=1):
        if not line.strip():
            body_at = index + 1
            break
        if line[0] in " \t" and message.headers:
            name, value = message.headers[-1]
            message.headers[-1] = (name, value + " " + line.strip())
        elif ":" in line:
            name, value = line.split(":", 1)
            message.headers.append((name.strip(), value.strip()))
    message.body = "\n".join(lines[body_at:]).strip()
    return message


def received_invites(messages: list[SipMessage]) -> list[Invite]:
    """Initial INVITEs received (retransmissions and re-INVITEs left out)."""
    seen: set[tuple[str | None, str | None]] = set()
    invites = []
    for message in messages:
        if message.direction != "received" or message.method != "INVITE" or message.in_dialog:
            continue
        key = (message.header("call-id"), message.header("cseq"))
        if key not in seen:
            seen.add(key)
            invites.append(Invite(message))
    return invites


def final_status(messages: list[SipMessage]) -> int | None:
    """The last final (>= 200) response received to an INVITE (a 401 challenge
    answered by a new INVITE is followed by that INVITE's own final response)."""
    status = None
    for message in messages:
        code = message.status
        if (
            message.direction == "received"
            and code
            and code >= 200
            and (message.header("cseq") or "").upper().endswith("INVITE")
        ):
            status = code
    return status
