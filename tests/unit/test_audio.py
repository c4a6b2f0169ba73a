"""The measuring tools of the R44 call tests (tests/calls/audio.py) measure what they claim."""

from __future__ import annotations

from tests.calls.audio import alaw_decode, rms, tone_frame, tone_power, ulaw_decode, ulaw_encode


def _tone(hz: float, frames: int = 50) -> list[int]:
    return [ulaw_decode(b) for i in range(frames) for b in tone_frame(hz, i * 160)]


def test_mu_law_round_trips_within_its_step():
    for sample in (0, 1, 100, -100, 1000, -5000, 20000, -32000):
        assert abs(ulaw_decode(ulaw_encode(sample)) - sample) <= max(4, abs(sample) // 16)


def test_silence_is_silent_and_a_tone_is_loud():
    assert rms([ulaw_decode(0xFF)] * 800) == 0
    assert 3500 < rms(_tone(440)) < 5000  # a 6000-peak sine: 6000 / sqrt(2)


def test_goertzel_finds_the_tone_that_is_there_and_not_the_others():
    mixed = [a + b for a, b in zip(_tone(450), _tone(1250), strict=True)]
    assert tone_power(mixed, 450) > 5000 and tone_power(mixed, 1250) > 5000
    assert tone_power(mixed, 750) < 400


def test_a_law_decodes_its_silence_and_extremes():
    assert abs(alaw_decode(0xD5)) <= 8
    assert alaw_decode(0xAA) > 30000 and alaw_decode(0x2A) < -30000
