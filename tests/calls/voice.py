"""A caller who talks: a trunk call (from the carrier, through the edge) playing DTMF then a tone,
to leave a real voicemail.

tests/sip/call.py plays only DTMF; a voicemail needs audio after the beep
(app_voicemail gives up on a channel sending no RTP). Same uac.xml scenario and
the same RFC 4733 packet layout as tests/sip/dtmf.py, with PCMU tone appended.
"""

from __future__ import annotations

import math
import struct
from pathlib import Path

from pbx.settings import Settings
from tests.sip.call import Call, CallResult
from tests.sip.dtmf import EVENT_CODES, EVENT_PT, PCMU_PT, PTIME_MS, SAMPLES_PER_PACKET, SSRC
from tests.sip.handset import edge_trunk_address
from tests.sip.sipp import SippProcess, free_udp_port, render_scenario, work_dir

TONE_HZ = 440
TONE_LEVEL = 8000
DIGIT_PACKETS, END_PACKETS, GAP_PACKETS = 6, 3, 10


def _ulaw(sample: int) -> int:
    """G.711 mu-law encoding of one 16-bit sample."""
    sign = 0x80 if sample < 0 else 0
    magnitude = min(abs(sample), 32635) + 0x84
    exponent = max(0, magnitude.bit_length() - 8)
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


def _tone_payload(start_sample: int) -> bytes:
    return bytes(
        _ulaw(int(TONE_LEVEL * math.sin(2 * math.pi * TONE_HZ * (start_sample + i) / 8000)))
        for i in range(SAMPLES_PER_PACKET)
    )


def rtp_stream(digits: str, lead_in_s: float, tone_s: float) -> list[bytes]:
    """Silence, the digits as RFC 4733 events, then a tone: one RTP packet per 20 ms."""
    packets: list[bytes] = []

    def add(pt: int, payload: bytes, ts: int | None = None, marker: bool = False) -> None:
        clock = len(packets) * SAMPLES_PER_PACKET
        header = struct.pack(
            "!BBHII",
            0x80,
            (0x80 if marker else 0) | pt,
            len(packets) & 0xFFFF,
            (clock if ts is None else ts) & 0xFFFFFFFF,
            SSRC,
        )
        packets.append(header + payload)

    silence = b"\xff" * SAMPLES_PER_PACKET
    for _ in range(int(lead_in_s * 1000 / PTIME_MS)):
        add(PCMU_PT, silence)
    for digit in digits:
        start = len(packets) * SAMPLES_PER_PACKET
        for i in range(DIGIT_PACKETS):
            add(EVENT_PT, struct.pack("!BBH", EVENT_CODES[digit], 10, (i + 1) * SAMPLES_PER_PACKET), start, i == 0)
        for _ in range(END_PACKETS):
            add(EVENT_PT, struct.pack("!BBH", EVENT_CODES[digit], 0x8A, DIGIT_PACKETS * SAMPLES_PER_PACKET), start)
        for _ in range(GAP_PACKETS):
            add(PCMU_PT, silence)
    for _ in range(int(tone_s * 1000 / PTIME_MS)):
        add(PCMU_PT, _tone_payload(len(packets) * SAMPLES_PER_PACKET))
    return packets


def write_pcap(path: Path, packets: list[bytes]) -> Path:
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    for index, payload in enumerate(packets):
        udp = struct.pack("!HHHH", 40000, 40002, 8 + len(payload), 0) + payload
        ip = struct.pack(
            "!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1])
        )
        total = sum(struct.unpack("!10H", ip))
        total = (total & 0xFFFF) + (total >> 16)
        ip = ip[:10] + struct.pack("!H", ~total & 0xFFFF) + ip[12:]
        frame = b"\x00" * 12 + b"\x08\x00" + ip + udp
        usec = index * PTIME_MS * 1000
        out.append(struct.pack("<IIII", 1_700_000_000 + usec // 1_000_000, usec % 1_000_000, len(frame), len(frame)))
        out.append(frame)
    path.write_bytes(b"".join(out))
    return path


def leave_message(
    settings: Settings,
    to: str,
    caller: str,
    *,
    digits: str = "##",
    lead_in_s: float = 0.5,
    tone_s: float = 4.0,
    timeout: float = 40.0,
) -> CallResult:
    """Call `to` from the trunk, key digits (## skips the greeting and the instructions), then talk."""
    directory = work_dir(f"voice-{caller}-{to}")
    pcap = write_pcap(directory / "voice.pcap", rtp_stream(digits, lead_in_s, tone_s))
    hold_ms = int((lead_in_s + tone_s + len(digits) * 0.4) * 1000) + 500
    values = {
        "FROM_USER": caller,
        "FROM_DISPLAY": "",
        "FIRST_TXN": "invite",
        "EXPECT": "200",
        "EXTRA_HEADERS": "",
        "CSEQ": "1",
        "BYE_CSEQ": "2",
        "DTMF_PCAP": str(pcap),
        "HOLD_MS": str(hold_ms),
    }
    scenario = render_scenario(
        "uac.xml", directory / "uac.xml", {"auth": False, "answered": True, "rejected": False, "dtmf": True}, values
    )
    process = SippProcess(
        "uac",
        scenario,
        [edge_trunk_address(settings), "-s", to, "-m", "1", "-l", "1"],
        port=free_udp_port(),
        timeout=timeout,
        directory=directory,
        ip=settings.trunk_host,
    ).start()
    return Call(process, 200).wait()
