"""Write RTP pcaps carrying RFC 4733 DTMF events, for sipp's play_pcap_audio.

Debian's dtmf_2833_*.pcap files reuse sequence numbers and timestamps, so
Asterisk drops a repeated digit ("1123" arrives as "123"). Here every packet
of the call gets the next sequence number, and every digit a new event
timestamp, so repeated digits stay distinct. A short lead-in of PCMU silence
lets Asterisk's strict-RTP learning accept the source before the first digit.
"""

from __future__ import annotations

import struct
from pathlib import Path

PTIME_MS = 20
SAMPLES_PER_PACKET = 160  # 20 ms at 8 kHz
PCMU_PT = 0
EVENT_PT = 101
EVENT_CODES = {**{str(d): d for d in range(10)}, "*": 10, "#": 11, "A": 12, "B": 13, "C": 14, "D": 15}
LEAD_IN_PACKETS = 25  # 500 ms of silence before the first digit
TONE_PACKETS = 6  # 120 ms of tone per digit
END_PACKETS = 3  # the end event is sent three times (RFC 4733 2.5.1.4)
GAP_PACKETS = 5  # 100 ms of silence between digits
TAIL_PACKETS = 10
PAUSE = ","  # one second of silence between digits (e.g. wait for a menu)
PAUSE_PACKETS = 50
SSRC = 0x5EED1234
VOLUME = 10
PCAP_EPOCH_US = 1_700_000_000 * 1_000_000
SRC = ("127.0.0.1", 40000)
DST = ("127.0.0.1", 40002)


def _ip_checksum(header: bytes) -> int:
    total = sum(struct.unpack("!10H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _frame(payload: bytes) -> bytes:
    """Ethernet + IPv4 + UDP around an RTP payload (sipp rewrites the addresses)."""
    udp = struct.pack("!HHHH", SRC[1], DST[1], 8 + len(payload), 0) + payload
    src = bytes(int(p) for p in SRC[0].split("."))
    dst = bytes(int(p) for p in DST[0].split("."))
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", _ip_checksum(ip)) + ip[12:]
    ether = b"\x00" * 6 + b"\x00" * 6 + b"\x08\x00"
    return ether + ip + udp


def _rtp(seq: int, ts: int, pt: int, payload: bytes, marker: bool = False) -> bytes:
    return struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | pt, seq & 0xFFFF, ts & 0xFFFFFFFF, SSRC) + payload


def rtp_packets(digits: str) -> list[bytes]:
    """The RTP packets (one per 20 ms) for digits, silence around them."""
    unknown = set(digits) - set(EVENT_CODES) - {PAUSE}
    if unknown:
        raise ValueError(f"not DTMF digits: {sorted(unknown)}")
    packets: list[bytes] = []
    clock = 0  # RTP timestamp of the current 20 ms slot
    silence = b"\xff" * SAMPLES_PER_PACKET

    def add_silence(count: int) -> None:
        nonlocal clock
        for _ in range(count):
            packets.append(_rtp(len(packets), clock, PCMU_PT, silence))
            clock += SAMPLES_PER_PACKET

    add_silence(LEAD_IN_PACKETS)
    for digit in digits:
        if digit == PAUSE:
            add_silence(PAUSE_PACKETS)
            continue
        event, start = EVENT_CODES[digit], clock
        for i in range(TONE_PACKETS):
            duration = (i + 1) * SAMPLES_PER_PACKET
            body = struct.pack("!BBH", event, VOLUME, duration)
            packets.append(_rtp(len(packets), start, EVENT_PT, body, marker=i == 0))
            clock += SAMPLES_PER_PACKET
        for _ in range(END_PACKETS):
            body = struct.pack("!BBH", event, 0x80 | VOLUME, TONE_PACKETS * SAMPLES_PER_PACKET)
            packets.append(_rtp(len(packets), start, EVENT_PT, body))
            clock += SAMPLES_PER_PACKET
        add_silence(GAP_PACKETS)
    add_silence(TAIL_PACKETS)
    return packets


def duration_ms(digits: str) -> int:
    """How long playing the pcap for digits takes."""
    per_digit = TONE_PACKETS + END_PACKETS + GAP_PACKETS
    pauses = digits.count(PAUSE)
    keyed = per_digit * (len(digits) - pauses) + PAUSE_PACKETS * pauses
    return (LEAD_IN_PACKETS + keyed + TAIL_PACKETS) * PTIME_MS


def write_dtmf_pcap(path: Path, digits: str) -> Path:
    """Write a pcap (Ethernet link type) playing digits as RFC 4733 events."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    for index, payload in enumerate(rtp_packets(digits)):
        frame = _frame(payload)
        usec = PCAP_EPOCH_US + index * PTIME_MS * 1000
        out.append(struct.pack("<IIII", usec // 1_000_000, usec % 1_000_000, len(frame), len(frame)))
        out.append(frame)
    path.write_bytes(b"".join(out))
    return path
