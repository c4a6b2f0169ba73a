"""R44 on real calls: hold music that is music, and G.722 end to end where both ends have it.

The caller's audio is the test's own RTP leg (tests/calls/media.py): what it receives is
decoded and measured, as the person holding the receiver would hear it.
"""

from __future__ import annotations

import pytest

from tests.calls.audio import rms
from tests.calls.media import G722_PT, MediaHandset, RtpLeg, sdp_media, start_media_call
from tests.sip.dtmf import PCMU_PT
from tests.world import OUTSIDE_CALLER

pytestmark = pytest.mark.asterisk
HOLD_AFTER_S = 1.5
# Silence decodes to 0 (silence/10, or no packet at all); quiet music is still in the hundreds.
MUSIC_RMS = 200
WAIT_S = 15.0


def _credentials(world, phone_id: str) -> tuple[str, str]:
    h = next(h for h in world.data["handsets"] if h["phone_id"] == phone_id)
    return h["sip_username"], h["sip_password"]


def test_r44_a_caller_put_on_hold_hears_music_not_silence(world):
    alice = world.number(extension="201", occupier="Acme Ltd")
    user, password = _credentials(world, alice["handset"])
    with (
        MediaHandset(world.settings, user, password, hold_after=HOLD_AFTER_S, hold=8) as desk,
        RtpLeg(ip=world.settings.trunk_host, lead_in_s=20) as leg,
    ):
        call = start_media_call(world.settings, alice["number"], leg, caller=OUTSIDE_CALLER, hold=7)
        desk.wait_invites(1, WAIT_S)
        result = call.wait()
        assert result.ok, result
    held = [p for p in leg.packets if p.pt == PCMU_PT]
    assert held, "the held caller received no audio at all"
    # From a second after the hold (music started) to the end of the call.
    since = held[0].at + HOLD_AFTER_S + 1.0
    heard = leg.heard(since=since)
    assert len(heard) > 8000, f"only {len(heard)} samples of audio after the hold"
    assert rms(heard) > MUSIC_RMS, f"the held caller heard silence (RMS {rms(heard):.0f})"


def test_r44_two_g722_handsets_talk_g722_on_both_legs(world):
    alice = world.number(extension="201", occupier="Acme Ltd")
    bob_user, bob_password = _credentials(world, world.number(extension="202", occupier="Acme Ltd")["handset"])
    alice_user, alice_password = _credentials(world, alice["handset"])
    with MediaHandset(world.settings, alice_user, alice_password, codecs=("g722",), hold=4) as desk, RtpLeg() as leg:
        call = start_media_call(
            world.settings, "201", leg, caller=bob_user, password=bob_password, codecs=("g722", "pcmu"), hold=2
        )
        desk.wait_invites(1, WAIT_S)
        result = call.wait()
        assert result.ok, result
        offered = desk.offer_payloads()
        answered = desk.answer_payloads()
    caller_answer = _answer_payloads(result)
    assert offered[0] == G722_PT, f"Asterisk offered the callee {offered}, not G.722 first"
    assert answered[0] == G722_PT
    assert caller_answer[0] == G722_PT, f"the caller was answered with {caller_answer}"


def test_r44_a_g711_handset_still_reaches_a_g722_only_handset(world):
    alice = world.number(extension="201", occupier="Acme Ltd")
    bob_user, bob_password = _credentials(world, world.number(extension="202", occupier="Acme Ltd")["handset"])
    alice_user, alice_password = _credentials(world, alice["handset"])
    with (
        MediaHandset(world.settings, alice_user, alice_password, codecs=("g722",), hold=4) as desk,
        RtpLeg(lead_in_s=0.2, tone_hz=440) as leg,
    ):
        call = start_media_call(
            world.settings, "201", leg, caller=bob_user, password=bob_password, codecs=("pcmu",), hold=2
        )
        desk.wait_invites(1, WAIT_S)
        result = call.wait()
        assert result.ok, result
        answered = desk.answer_payloads()
    assert answered == [G722_PT, 101]  # the callee talks G.722 ...
    assert _answer_payloads(result)[0] == PCMU_PT  # ... the caller G.711: Asterisk transcodes


def _answer_payloads(result) -> list[int]:
    for message in result.messages:
        if message.direction == "received" and message.status == 200 and message.body:
            found = sdp_media(message)
            if found:
                return found[1]
    return []


def test_r44_g722_and_opus_transcode_to_and_from_g711(asterisk):
    """Both wideband codecs are real transcoders here (Debian's codec_opus_open_source), not passthrough."""
    for source, target in (("g722", "ulaw"), ("ulaw", "g722"), ("opus", "ulaw"), ("ulaw", "opus")):
        paths = asterisk.command(f"core show translation paths {source}")
        line = next((ln for ln in paths.splitlines() if f" To {target}:" in ln), "")
        assert f"({source}@" in line and f"->({target}@" in line, f"no {source} -> {target} path: {line!r}"
