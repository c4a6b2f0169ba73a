"""R41: a handset's message-waiting lamp follows the voicemail box of the number logged in
to it, and moves with hot desk (real calls: sipp, the edge, Asterisk, the node agent)."""

from __future__ import annotations

import time

import pytest

from pbx.asterisk.lamp import MessageLamp
from pbx.services import handsets
from pbx.services.actor import Actor
from pbx.store import transaction
from tests.calls.ari_fixtures import InThread
from tests.calls.lamp_watch import lamp_of, subscribe
from tests.calls.store_checks import set_custom_pin
from tests.calls.voice import leave_message
from tests.world import OUTSIDE_CALLER

PIN = "482916"
LISTEN_TIMEOUT_S = 15.0
HEAR_S = 16  # the envelope ("first message, received today at ...") then the message itself


@pytest.fixture
def message_lamp(world):
    running = InThread(lambda: MessageLamp(world.settings, world.factory)).start()
    deadline = time.monotonic() + LISTEN_TIMEOUT_S
    while running.service is None or not running.service.listening.is_set():
        assert time.monotonic() < deadline, "the message lamp did not reach AMI"
        time.sleep(0.05)
    yield running.service
    running.stop()


def free_desk(world, site: str) -> str:
    return next(h["phone_id"] for h in world.data["handsets"] if h["number"] is None and h["site"] == site)


def test_r41_the_lamp_lights_with_a_new_message_and_goes_out_once_it_is_heard(world, stasis_app, message_lamp):
    alice = world.number(extension="201", occupier="Acme Ltd")
    set_custom_pin(world, alice["number"], PIN)
    world.set_features(alice["number"], dnd="on")  # calls go straight to voicemail
    with lamp_of(world, alice["handset"]) as lamp:
        assert leave_message(world.settings, alice["number"], OUTSIDE_CALLER, tone_s=2).ok

        on = lamp.wait_for("yes")
        assert on is not None, [m.body for m in lamp.notifies]
        assert on.header("content-type") == "application/simple-message-summary"
        assert "Voice-Message: 1/0 (0/0)" in on.body
        assert "Message-Account: sip:*97@" in on.body
        seen = len(lamp.notifies)

        # Alice hears it: *97, her PIN, then 1 (new messages) once her box's menu plays.
        assert world.call_from_handset(alice["handset"], "*97", dtmf=f"{PIN}#,,,1", hold=HEAR_S).ok

        off = lamp.wait_for("no", after=seen)
        assert off is not None, [m.body for m in lamp.notifies]
        assert "Voice-Message: 0/1 (0/0)" in off.body


def test_r41_the_lamp_moves_with_hot_desk(world, stasis_app, message_lamp):
    alice = world.number(extension="201", occupier="Acme Ltd")
    world.set_features(alice["number"], dnd="on")
    desk = free_desk(world, alice["site"])
    with lamp_of(world, alice["handset"]) as old, lamp_of(world, desk) as new:
        assert leave_message(world.settings, alice["number"], OUTSIDE_CALLER, tone_s=2).ok
        assert old.wait_for("yes") is not None
        assert new.notifies == []  # nothing of Alice's box shows on a free desk
        seen = len(old.notifies)

        with transaction(world.factory) as session:  # as the portal's hot desk does it
            handsets.log_in_handset(session, Actor.system("test"), alice["id"], desk)
        world.apply()

        assert new.wait_for("yes", timeout=15) is not None, [m.body for m in new.notifies]
        assert old.wait_for("no", after=seen, timeout=15) is not None, [m.body for m in old.notifies]


def test_r41_a_subscription_is_granted_and_the_state_notified_at_once(world):
    bob = world.number(extension="202", occupier="Acme Ltd")
    phone = world.handset_of(bob["handset"])
    phone.register()
    try:
        code, received, diagnostics = subscribe(world.settings, phone.phone_id, phone.password, phone.port)
    finally:
        phone.register(expires=0)

    assert code == 0, diagnostics
    assert any(m.status == 200 for m in received)
    (notify,) = [m for m in received if m.method == "NOTIFY"]
    assert notify.header("event") == "message-summary"
    assert (notify.header("subscription-state") or "").startswith("active")  # inside the subscription
    assert "Messages-Waiting: no" in notify.body
    assert "Voice-Message: 0/0 (0/0)" in notify.body
