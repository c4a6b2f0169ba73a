"""Just enough SIP over UDP, in Python, to time single events to the millisecond where a sipp
process (its start-up, its screen file) would blur them:

- `register`: a handset's REGISTER with digest auth (MD5, with or without qop=auth);
- `Ringer`: a handset that records when each INVITE reaches it, answers 180 Ringing and
  never picks up, then takes the CANCEL (200, 487) and the ACK;
- `probe`: a caller that INVITEs a number once; on 180/183 it CANCELs (so nothing stays up and
  no route set is needed), on a final failure it ACKs. It returns the status it saw.

Loopback only, every wait bounded. Not a SIP stack: one transaction at a time per socket.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field

COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact", "l": "content-length"}
SDP = (
    "v=0\r\no=bench 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n"
    "m=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
)


@dataclass
class Message:
    start: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: str = ""

    @property
    def status(self) -> int | None:
        return int(self.start.split()[1]) if self.start.startswith("SIP/2.0") else None

    @property
    def method(self) -> str | None:
        return None if self.start.startswith("SIP/2.0") else self.start.split()[0]

    def get(self, name: str) -> str:
        name = name.lower()
        return next((v for k, v in self.headers if k == name), "")

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k == name.lower()]


def parse(data: bytes) -> Message:
    head, _, body = data.decode(errors="replace").partition("\r\n\r\n")
    lines = head.split("\r\n")
    message = Message(lines[0], body=body)
    for line in lines[1:]:
        name, _, value = line.partition(":")
        key = name.strip().lower()
        message.headers.append((COMPACT.get(key, key), value.strip()))
    return message


def _tag() -> str:
    return secrets.token_hex(6)


def _branch() -> str:
    return "z9hG4bK" + secrets.token_hex(8)


def _build(start: str, headers: list[tuple[str, str]], body: str = "") -> bytes:
    lines = [start, *(f"{k}: {v}" for k, v in headers), f"Content-Length: {len(body.encode())}", "", body]
    return "\r\n".join(lines).encode()


def reply(request: Message, status: int, reason: str, to_tag: str | None = None, extra=(), body: str = "") -> bytes:
    """A response to `request`: its Vias, From, To (with our tag), Call-ID and CSeq."""
    to = request.get("to")
    if to_tag and ";tag=" not in to:
        to += f";tag={to_tag}"
    headers = [("Via", via) for via in request.all("via")]
    headers += [("From", request.get("from")), ("To", to), ("Call-ID", request.get("call-id"))]
    headers += [("CSeq", request.get("cseq")), *extra]
    return _build(f"SIP/2.0 {status} {reason}", headers, body)


class Endpoint:
    """One UDP socket on a loopback address."""

    def __init__(self, ip: str, port: int = 0):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((ip, port))
        self.ip, self.port = self.sock.getsockname()

    def send(self, data: bytes, dest: tuple[str, int]) -> None:
        self.sock.sendto(data, dest)

    def recv(self, timeout: float) -> Message | None:
        self.sock.settimeout(max(timeout, 0.001))
        try:
            data, _ = self.sock.recvfrom(65535)
        except TimeoutError:
            return None
        return parse(data)

    def response(self, call_id: str, cseq_method: str, deadline: float) -> Message | None:
        """The next response of this call to `cseq_method` (others of the call are dropped)."""
        while (left := deadline - time.monotonic()) > 0:
            message = self.recv(left)
            if message is None:
                return None
            if message.status and message.get("call-id") == call_id and message.get("cseq").endswith(cseq_method):
                return message
        return None

    def close(self) -> None:
        self.sock.close()


def _digest(challenge: str, user: str, password: str, method: str, uri: str) -> str:
    params = dict(re.findall(r'(\w+)="?([^",]*)"?', challenge))
    realm, nonce = params["realm"], params["nonce"]
    ha1 = hashlib.md5(f"{user}:{realm}:{password}".encode()).hexdigest()
    ha2 = hashlib.md5(f"{method}:{uri}".encode()).hexdigest()
    fields = [f'username="{user}"', f'realm="{realm}"', f'nonce="{nonce}"', f'uri="{uri}"', "algorithm=MD5"]
    if "auth" in params.get("qop", "").split(","):
        cnonce, nc = secrets.token_hex(8), "00000001"
        digest = hashlib.md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}".encode()).hexdigest()
        fields += ["qop=auth", f"nc={nc}", f'cnonce="{cnonce}"']
    else:
        digest = hashlib.md5(f"{ha1}:{nonce}:{ha2}".encode()).hexdigest()
    fields.append(f'response="{digest}"')
    if "opaque" in params:
        fields.append(f'opaque="{params["opaque"]}"')
    return "Digest " + ", ".join(fields)


def register(
    endpoint: Endpoint, edge: tuple[str, int], user: str, password: str, expires: int = 3600, timeout: float = 2.0
) -> int:
    """REGISTER `user` at `edge` with this endpoint as contact; the final status (0: no answer)."""
    uri = f"sip:{edge[0]}:{edge[1]}"
    call_id, tag = secrets.token_hex(10), _tag()
    authorization: list[tuple[str, str]] = []
    for cseq in (1, 2):
        headers = [
            ("Via", f"SIP/2.0/UDP {endpoint.ip}:{endpoint.port};branch={_branch()};rport"),
            ("Max-Forwards", "70"),
            ("From", f"<sip:{user}@{edge[0]}>;tag={tag}"),
            ("To", f"<sip:{user}@{edge[0]}>"),
            ("Call-ID", call_id),
            ("CSeq", f"{cseq} REGISTER"),
            ("Contact", f"<sip:{user}@{endpoint.ip}:{endpoint.port}>"),
            ("Expires", str(expires)),
            *authorization,
        ]
        endpoint.send(_build(f"REGISTER {uri} SIP/2.0", headers), edge)
        deadline = time.monotonic() + timeout
        while True:
            answer = endpoint.response(call_id, "REGISTER", deadline)
            if answer is None:
                return 0
            if answer.status and answer.status >= 200:
                break
        if answer.status != 401 or cseq == 2:
            return answer.status or 0
        authorization = [("Authorization", _digest(answer.get("www-authenticate"), user, password, "REGISTER", uri))]
    return 0


class Ringer(threading.Thread):
    """A registered handset that rings for ever: `invites` holds (perf_counter, R-URI user) of
    every INVITE that reached it."""

    def __init__(self, endpoint: Endpoint):
        super().__init__(daemon=True)
        self.endpoint = endpoint
        self.invites: list[tuple[float, str]] = []
        self.stopping = threading.Event()
        self._pending: dict[str, Message] = {}
        self._tags: dict[str, str] = {}

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.endpoint.sock.settimeout(0.1)
                data, source = self.endpoint.sock.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            arrived = time.perf_counter()
            message = parse(data)
            call_id = message.get("call-id")
            contact = [("Contact", f"<sip:{self.endpoint.ip}:{self.endpoint.port}>")]
            if message.method == "INVITE":
                if call_id not in self._tags:
                    user = message.start.split()[1].split(":", 1)[1].split("@", 1)[0]
                    self.invites.append((arrived, user))
                    self._tags[call_id] = _tag()
                    self._pending[call_id] = message
                routes = [("Record-Route", route) for route in message.all("record-route")]
                self.endpoint.send(reply(message, 180, "Ringing", self._tags[call_id], routes + contact), source)
            elif message.method == "CANCEL":
                self.endpoint.send(reply(message, 200, "OK", self._tags.get(call_id)), source)
                invite = self._pending.pop(call_id, None)
                if invite is not None:
                    self.endpoint.send(reply(invite, 487, "Request Terminated", self._tags[call_id]), source)
            elif message.method in ("BYE", "OPTIONS", "NOTIFY"):
                self.endpoint.send(reply(message, 200, "OK", self._tags.get(call_id, _tag())), source)
            # ACK: nothing to send

    def stop(self) -> None:
        self.stopping.set()
        self.join(2)
        self.endpoint.close()


def probe(endpoint: Endpoint, dest: tuple[str, int], number: str, timeout: float = 3.0) -> int:
    """One INVITE to `number` at `dest`: 180 when it rang somewhere (then CANCELled), else the
    final status (ACKed), 0 when nothing answered in time."""
    call_id, tag, branch = secrets.token_hex(10), _tag(), _branch()
    ruri = f"sip:{number}@{dest[0]}:{dest[1]}"
    via = f"SIP/2.0/UDP {endpoint.ip}:{endpoint.port};branch={branch};rport"
    common = [
        ("Via", via),
        ("Max-Forwards", "70"),
        ("From", f"<sip:+447700900123@{endpoint.ip}>;tag={tag}"),
        ("To", f"<{ruri}>"),
        ("Call-ID", call_id),
    ]
    body = SDP.format(ip=endpoint.ip, port=endpoint.port + 2)
    invite = [
        *common,
        ("CSeq", "1 INVITE"),
        ("Contact", f"<sip:caller@{endpoint.ip}:{endpoint.port}>"),
        ("Content-Type", "application/sdp"),
    ]
    endpoint.send(_build(f"INVITE {ruri} SIP/2.0", invite, body), dest)
    deadline = time.monotonic() + timeout
    rang = False
    while True:
        answer = endpoint.response(call_id, "INVITE", deadline)
        if answer is None:
            return 0
        status = answer.status or 0
        if status in (180, 183) and not rang:
            rang = True
            endpoint.send(_build(f"CANCEL {ruri} SIP/2.0", [*common, ("CSeq", "1 CANCEL")]), dest)
        elif status >= 200:
            break
    if status >= 300:  # the ACK of a failure: hop by hop, the INVITE's branch, the answer's To
        ack = [*common[:3], ("To", answer.get("to")), ("Call-ID", call_id), ("CSeq", "1 ACK")]
        endpoint.send(_build(f"ACK {ruri} SIP/2.0", ack), dest)
    return 180 if rang else status
