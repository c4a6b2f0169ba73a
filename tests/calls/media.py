"""Calls whose audio the test itself sends and hears (R44: hold music, HD audio, conferences).

sipp does the signalling (scenarios uac_media.xml, uas_media.xml); the audio goes to and
from an RtpLeg, a UDP socket in this process named in the SDP. It records every RTP
packet Asterisk sends and, once it knows where Asterisk listens (the answer's SDP),
plays a script: silence, RFC 4733 digits (a PIN), then a steady tone. What a person
would hear is decoded G.711 measured by pure functions: its RMS (silence or not) and
its energy at given frequencies (Goertzel: whose tone arrives).
"""

from __future__ import annotations

import contextlib
import math
import re
import socket
import struct
import threading
import time
from dataclasses import dataclass, field

from pbx.settings import Settings
from tests.calls.audio import alaw_decode, tone_frame, ulaw_decode
from tests.sip.call import Call
from tests.sip.dtmf import EVENT_CODES, EVENT_PT, PCMU_PT, PTIME_MS, SAMPLES_PER_PACKET
from tests.sip.handset import Handset, edge_address, edge_trunk_address
from tests.sip.messages import SipMessage
from tests.sip.sipp import SippError, SippProcess, free_udp_port, render_scenario, wait_udp_bound, work_dir

G722_PT = 9
DIGIT_PACKETS, END_PACKETS, GAP_PACKETS = 6, 3, 10
CODEC_PAYLOADS = {"g722": G722_PT, "pcmu": PCMU_PT}
ANSWER_TIMEOUT_S = 20.0


# -- the test's own RTP endpoint ---------------------------------------------------------------


@dataclass
class Received:
    at: float  # time.monotonic() on arrival
    pt: int
    payload: bytes


@dataclass
class RtpLeg:
    """A UDP socket that hears RTP and, once `peer` is known, sends its script (PCMU + events)."""

    ip: str = "127.0.0.1"
    lead_in_s: float = 1.0
    digits: str = ""
    tone_hz: float | None = None
    port: int = 0
    peer: tuple[str, int] | None = None
    packets: list[Received] = field(default_factory=list)
    started_tone_at: float | None = None

    def __post_init__(self) -> None:
        self.port = self.port or free_udp_port(span=2)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((self.ip, self.port))
        self.sock.settimeout(0.1)
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._hear, daemon=True),
            threading.Thread(target=self._talk, daemon=True),
        ]

    def start(self) -> RtpLeg:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(2)
        self.sock.close()

    def _hear(self) -> None:
        while not self._stop.is_set():
            try:
                data, _ = self.sock.recvfrom(4096)
            except (TimeoutError, OSError):
                continue
            if len(data) >= 12 and data[0] >> 6 == 2:
                self.packets.append(Received(time.monotonic(), data[1] & 0x7F, data[12:]))

    def _talk(self) -> None:
        while self.peer is None and not self._stop.is_set():
            time.sleep(0.01)
        next_at = time.monotonic()
        for seq, (pt, payload, ts, marker) in enumerate(self._script()):
            if self._stop.is_set():
                return
            header = struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | pt, seq & 0xFFFF, ts & 0xFFFFFFFF, 0x7E57)
            try:
                self.sock.sendto(header + payload, self.peer)
            except OSError:
                return
            next_at += PTIME_MS / 1000
            time.sleep(max(0.0, next_at - time.monotonic()))

    def _script(self):
        """(pt, payload, timestamp, marker) every 20 ms: silence, digits, then the tone for ever."""
        clock = 0
        silence = b"\xff" * SAMPLES_PER_PACKET

        def step(pt: int, payload: bytes, ts: int | None = None, marker: bool = False):
            nonlocal clock
            item = (pt, payload, clock if ts is None else ts, marker)
            clock += SAMPLES_PER_PACKET
            return item

        for _ in range(int(self.lead_in_s * 1000 / PTIME_MS)):
            yield step(PCMU_PT, silence)
        for digit in self.digits:
            start = clock
            for i in range(DIGIT_PACKETS):
                body = struct.pack("!BBH", EVENT_CODES[digit], 10, (i + 1) * SAMPLES_PER_PACKET)
                yield step(EVENT_PT, body, start, i == 0)
            for _ in range(END_PACKETS):
                body = struct.pack("!BBH", EVENT_CODES[digit], 0x8A, DIGIT_PACKETS * SAMPLES_PER_PACKET)
                yield step(EVENT_PT, body, start)
            for _ in range(GAP_PACKETS):
                yield step(PCMU_PT, silence)
        self.started_tone_at = time.monotonic()
        while True:
            yield step(PCMU_PT, tone_frame(self.tone_hz, clock) if self.tone_hz else silence)

    def heard(self, since: float = 0.0, until: float = math.inf) -> list[int]:
        """The G.711 audio received between two moments, decoded to samples."""
        samples: list[int] = []
        for packet in list(self.packets):
            if not since <= packet.at <= until:
                continue
            if packet.pt == PCMU_PT:
                samples.extend(ulaw_decode(b) for b in packet.payload)
            elif packet.pt == 8:
                samples.extend(alaw_decode(b) for b in packet.payload)
        return samples

    def __enter__(self) -> RtpLeg:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# -- signalling --------------------------------------------------------------------------------


def sdp_media(message: SipMessage) -> tuple[tuple[str, int], list[int]] | None:
    """Where an SDP body says to send audio, and its payload types in order."""
    address = re.search(r"^c=IN IP4 (\S+)", message.body, re.M)
    media = re.search(r"^m=audio (\d+) RTP/AVP ([\d ]+)", message.body, re.M)
    if not address or not media:
        return None
    return (address.group(1), int(media.group(1))), [int(p) for p in media.group(2).split()]


def answer_sdp(process: SippProcess, timeout: float = ANSWER_TIMEOUT_S) -> tuple[tuple[str, int], list[int]]:
    """The 200 OK to our INVITE, as sipp logged it: where to send audio, which payload types."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in process.messages():
            if message.direction == "received" and message.status == 200 and message.body:
                found = sdp_media(message)
                if found:
                    return found
        if not process.running:
            break
        time.sleep(0.05)
    raise AssertionError(f"no answer with SDP within {timeout} s\n{process.diagnostics()}")


def _codec_values(codecs: tuple[str, ...]) -> tuple[dict[str, bool], str]:
    return {c: c in codecs for c in CODEC_PAYLOADS}, " ".join(str(CODEC_PAYLOADS[c]) for c in codecs)


def start_media_call(
    settings: Settings,
    to: str,
    leg: RtpLeg,
    *,
    caller: str,
    password: str | None = None,
    codecs: tuple[str, ...] = ("pcmu",),
    hold: float = 8.0,
    timeout: float = 40.0,
) -> Call:
    """A call from a handset (password) or the trunk (none) whose audio is `leg`'s; `hold`:
    seconds on the line after the answer. The leg starts talking once the answer names Asterisk's port."""
    trunk = password is None
    directory = work_dir(f"media-{caller}-{to}")
    sections, payloads = _codec_values(codecs)
    values = {
        "FROM_USER": caller,
        "FROM_DISPLAY": "",
        "EXTRA_HEADERS": "",
        "FIRST_TXN": "invite" if trunk else "first",
        "EXPECT": "200",
        "CSEQ": "1" if trunk else "2",
        "BYE_CSEQ": "2" if trunk else "3",
        "HOLD_MS": str(int(hold * 1000)),
        "MEDIA_IP": leg.ip,
        "RTP_PORT": str(leg.port),
        "PAYLOADS": payloads,
    }
    scenario = render_scenario(
        "uac_media.xml",
        directory / "uac_media.xml",
        {"auth": not trunk, "answered": True, "rejected": False, "dtmf": False, **sections},
        values,
    )
    args = [edge_trunk_address(settings) if trunk else edge_address(settings), "-s", to, "-m", "1", "-l", "1"]
    if not trunk:
        args += ["-au", caller, "-ap", password or ""]
    process = SippProcess(
        "uac",
        scenario,
        args,
        port=free_udp_port(),
        timeout=timeout,
        directory=directory,
        ip=settings.trunk_host if trunk else "127.0.0.1",
    ).start()
    call = Call(process, 200)
    threading.Thread(target=_aim, args=(process, leg), daemon=True).start()
    return call


def _aim(process: SippProcess, leg: RtpLeg) -> None:
    with contextlib.suppress(AssertionError):  # the call failed; the test sees it in its CallResult
        leg.peer = answer_sdp(process)[0]


class MediaHandset(Handset):
    """A registered handset answering with `codecs` (in that order); with hold_after, it puts
    the caller on hold that many seconds after answering (re-INVITE a=sendonly)."""

    def __init__(
        self,
        settings: Settings,
        phone_id: str,
        password: str,
        *,
        codecs: tuple[str, ...] = ("pcmu",),
        hold_after: float | None = None,
        **kwargs,
    ):
        super().__init__(settings, phone_id, password, **kwargs)
        self.codecs = codecs
        self.hold_after = hold_after

    def start(self) -> MediaHandset:
        self.register()
        sections, payloads = _codec_values(self.codecs)
        scenario = render_scenario(
            "uas_media.xml",
            self.dir / "uas_media.xml",
            {**sections, "hold": self.hold_after is not None},
            {
                "HOLD_MS": str(int(self.hold * 1000)),
                "RING_MS": "0",
                "PAYLOADS": payloads,
                "HOLD_AFTER_MS": str(int((self.hold_after or 0) * 1000)),
            },
        )
        self.uas = SippProcess(
            "uas", scenario, ["-m", str(self.calls)], port=self.port, timeout=self.timeout, directory=self.dir
        ).start()
        if not wait_udp_bound(self.port):
            self.uas.kill()
            raise SippError(f"{self.name}: sipp did not bind {self.port}\n{self.uas.diagnostics()}")
        return self

    def answer_payloads(self) -> list[int]:
        """The payload types of the 200 OK this handset sent to the first INVITE."""
        for message in self.uas.messages() if self.uas else []:
            if message.direction == "sent" and message.status == 200 and message.body:
                found = sdp_media(message)
                if found:
                    return found[1]
        return []

    def offer_payloads(self) -> list[int]:
        """The payload types Asterisk offered this handset in the first INVITE."""
        invites = self.invites
        found = sdp_media(invites[0].message) if invites else None
        return found[1] if found else []
