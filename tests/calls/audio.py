"""What a person would hear, measured: G.711 decoding, loudness (RMS) and tones (Goertzel). Pure functions."""

from __future__ import annotations

import math

from tests.sip.dtmf import SAMPLES_PER_PACKET

RATE = 8000
TONE_LEVEL = 6000


def ulaw_encode(sample: int) -> int:
    """G.711 mu-law encoding of one 16-bit sample."""
    sign = 0x80 if sample < 0 else 0
    magnitude = min(abs(sample), 32635) + 0x84
    exponent = max(0, magnitude.bit_length() - 8)
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


def ulaw_decode(byte: int) -> int:
    """G.711 mu-law byte -> 16-bit sample."""
    byte = ~byte & 0xFF
    magnitude = (((byte & 0x0F) << 3) + 0x84) << ((byte >> 4) & 0x07)
    return (0x84 - magnitude) if byte & 0x80 else (magnitude - 0x84)


def alaw_decode(byte: int) -> int:
    """G.711 A-law byte -> 16-bit sample."""
    byte ^= 0x55
    exponent = (byte >> 4) & 0x07
    mantissa = byte & 0x0F
    magnitude = (mantissa << 4) + 8 if exponent == 0 else ((mantissa << 4) + 0x108) << (exponent - 1)
    return magnitude if byte & 0x80 else -magnitude


def rms(samples: list[int]) -> float:
    return math.sqrt(sum(s * s for s in samples) / len(samples)) if samples else 0.0


def tone_power(samples: list[int], hz: float, rate: int = RATE) -> float:
    """Goertzel: the amplitude of the `hz` component of samples (about the sine's peak for a pure tone)."""
    if not samples:
        return 0.0
    coefficient = 2 * math.cos(2 * math.pi * hz / rate)
    s1 = s2 = 0.0
    for sample in samples:
        s1, s2 = sample + coefficient * s1 - s2, s1
    power = s1 * s1 + s2 * s2 - coefficient * s1 * s2
    return 2 * math.sqrt(max(power, 0.0)) / len(samples)


def tone_frame(hz: float, start_sample: int, level: int = TONE_LEVEL) -> bytes:
    """20 ms of a sine in mu-law, phase-continuous from start_sample."""
    return bytes(
        ulaw_encode(int(level * math.sin(2 * math.pi * hz * (start_sample + i) / RATE)))
        for i in range(SAMPLES_PER_PACKET)
    )
