"""R44: a dead phone is detected, so its callers reach voicemail (or the forward) at once,
not after the whole ring time (real calls: sipp, the edge, Asterisk)."""

from __future__ import annotations

import time

from tests.sip.messages import SipMessage

DEAD_BOUND_S = 3.0  # the bound: the edge gives a silent contact 2 s (handset_timeout_ms)
ANSWER_TIMEOUT_S = 20.0


def answered_after(call, timeout: float = ANSWER_TIMEOUT_S) -> float | None:
    """Seconds from now until the caller's sipp logs a 200 OK for its INVITE (None: never)."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if any(_answer(m) for m in call.process.messages()):
            return time.monotonic() - start
        time.sleep(0.02)
    return None


def _answer(message: SipMessage) -> bool:
    return message.direction == "received" and message.status == 200 and "INVITE" in (message.header("cseq") or "")


def test_r44_a_dead_handset_sends_its_callers_to_voicemail_within_three_seconds(world, asterisk):
    alice = world.number(extension="201", occupier="Acme Ltd")
    phone = world.handset_of(alice["handset"])
    phone.register()  # ... and then it dies: nothing listens on its contact, no unregister
    mark = asterisk.log_mark()
    try:
        call = world.start_call_from_trunk(alice["number"], hold=1)
        seconds = answered_after(call)
        result = call.wait()
    finally:
        phone.register(expires=0)

    assert result.ok, result
    assert seconds is not None and seconds < DEAD_BOUND_S, seconds
    print(f"R44: a dead handset's caller answered by voicemail after {seconds:.2f} s")
    time.sleep(0.5)  # Asterisk's logger writes asynchronously
    assert 'VoiceMail("PJSIP/pbx-edge-1-' in asterisk.log_since(mark)
    assert f"n{alice['id']}@pbx,u" in asterisk.log_since(mark)


def test_r44_a_ringing_handset_is_not_taken_for_dead(world):
    alice = world.number(extension="201", occupier="Acme Ltd")
    with world.handset_of(alice["handset"], mode="ring", hold=1) as phone:
        call = world.start_call_from_trunk(alice["number"], hold=1)
        assert len(phone.wait_invites(1, 10)) == 1
        time.sleep(3.0)  # longer than the edge gives a silent contact
        assert answered_after(call, timeout=0.1) is None  # still ringing, not sent to voicemail
        messages = call.process.messages()
    assert any(m.direction == "received" and m.status == 180 for m in messages), "the caller hears ringback"
    call.process.kill()


def test_r44_a_dead_handset_sends_its_callers_to_the_no_answer_forward_at_once(world):
    alice = world.number(extension="201", occupier="Acme Ltd")
    bob = world.number(extension="202", occupier="Acme Ltd")
    world.set_features(alice["number"], forward_no_answer="202")
    dead = world.handset_of(alice["handset"])
    dead.register()  # ... and dies
    try:
        with world.handset_of(bob["handset"]) as phone:
            call = world.start_call_from_trunk(alice["number"], hold=1)
            seconds = answered_after(call)
            result = call.wait()
            assert len(phone.wait_invites(1, 5)) == 1  # Bob's phone took the forwarded call
    finally:
        dead.register(expires=0)

    assert result.ok, result
    assert seconds is not None and seconds < DEAD_BOUND_S, seconds
