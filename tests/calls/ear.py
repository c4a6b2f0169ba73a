"""A caller who listens: a trunk call whose SDP points at a UDP socket of the test, so the
audio Asterisk sends the caller (early media included) can be checked for a tone.

sipp binds its own media port and cannot report what it receives; this call offers a
port the test binds instead, collects the PCMU payloads, and measures tone power with
the Goertzel algorithm.
"""

from __future__ import annotations

import math
import socket
import threading
from pathlib import Path

from pbx.settings import Settings
from tests.sip.call import Call
from tests.sip.handset import edge_trunk_address
from tests.sip.sipp import SippProcess, free_udp_port, render_scenario, work_dir

PCMU_PT = 0
RTP_HEADER = 12
SAMPLE_RATE = 8000
RECEIVE_TIMEOUT_S = 0.2


def ulaw_to_linear(byte: int) -> int:
    """G.711 mu-law decoding of one sample."""
    byte = ~byte & 0xFF
    sign, exponent, mantissa = byte & 0x80, (byte >> 4) & 0x07, byte & 0x0F
    magnitude = ((mantissa << 3) + 0x84) << exponent
    return 0x84 - magnitude if sign else magnitude - 0x84


def goertzel_power(samples: list[int], hz: float) -> float:
    coefficient = 2 * math.cos(2 * math.pi * hz / SAMPLE_RATE)
    before = before_that = 0.0
    for sample in samples:
        before, before_that = sample + coefficient * before - before_that, before
    return before_that**2 + before**2 - coefficient * before * before_that


class Ear:
    """A UDP socket on the caller's address collecting the PCMU samples sent to it."""

    def __init__(self, ip: str) -> None:
        self.port = free_udp_port(span=2)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((ip, self.port))
        self.sock.settimeout(RECEIVE_TIMEOUT_S)
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._listen, daemon=True)
        self._thread.start()

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                packet = self.sock.recv(2048)
            except TimeoutError:
                continue
            except OSError:
                return
            if len(packet) > RTP_HEADER and packet[1] & 0x7F == PCMU_PT:
                self.samples.extend(ulaw_to_linear(b) for b in packet[RTP_HEADER:])

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()

    def heard(self, hz: float, against: tuple[float, ...] = (440.0, 700.0, 1400.0)) -> bool:
        """A clear tone at hz: in some 100 ms window, its power dwarfs that at the other frequencies."""
        window = SAMPLE_RATE // 10
        for start in range(0, max(0, len(self.samples) - window), window):
            chunk = self.samples[start : start + window]
            power = goertzel_power(chunk, hz)
            if power > 1e9 and all(power > 20 * goertzel_power(chunk, other) for other in against):
                return True
        return False


def start_listening_trunk_call(settings: Settings, to: str, caller: str, hold: float) -> tuple[Call, Ear]:
    """A call from the carrier, as tests.sip.call.start_call, whose audio arrives at an Ear."""
    ear = Ear(settings.trunk_host)
    directory: Path = work_dir(f"ear-{caller}-{to}")
    values = {
        "FROM_USER": caller,
        "FROM_DISPLAY": "",
        "EXTRA_HEADERS": "",
        "FIRST_TXN": "invite",
        "EXPECT": "200",
        "CSEQ": "1",
        "BYE_CSEQ": "2",
        "HOLD_MS": str(int(hold * 1000)),
    }
    sections = {"auth": False, "answered": True, "rejected": False, "dtmf": False}
    scenario = render_scenario("uac.xml", directory / "uac.xml", sections, values)
    scenario.write_text(scenario.read_text().replace("m=audio [media_port] ", f"m=audio {ear.port} "))
    process = SippProcess(
        "uac",
        scenario,
        [edge_trunk_address(settings), "-s", to, "-m", "1", "-l", "1"],
        port=free_udp_port(),
        timeout=30,
        directory=directory,
        ip=settings.trunk_host,
    ).start()
    return Call(process, 200), ear
