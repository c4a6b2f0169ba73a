"""R39 on real calls: the occupier's outbound call policy stops calls the dialplan itself
classifies ([pbx-class] in [pbx-outbound]), whatever the store says about the target.

The caller hears a message (183 with early media) then 403; the carrier receives nothing.
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select, update

from pbx.feature_table import FORWARD_ALWAYS
from pbx.services import call_policy, outbox
from pbx.services.actor import Actor
from pbx.store import Occupier, PhoneNumber, transaction
from pbx.store.models import NumberFeatures

pytestmark = pytest.mark.asterisk
SATELLITE = "+88213200000"
PREMIUM = "+449098790000"
MOBILE = "+447400123456"
LANDLINE = "+442079460999"
REFUSED = 403


def acme(world, extension: str) -> dict:
    return world.number(extension=extension, occupier="Acme Ltd")


def allow(world, classes: str) -> None:
    """The operator's console (or `pbx occupier policy`), then the controller applies it."""
    with transaction(world.factory) as session:
        occupier = session.scalar(select(Occupier).where(Occupier.name == "Acme Ltd"))
        call_policy.set_allowed_classes(session, Actor.system("test"), occupier.id, classes)
    world.apply()


def refusals_logged(world, mark: int) -> int:
    time.sleep(0.2)  # Asterisk's logger writes asynchronously
    lines = world.asterisk.log_since(mark).splitlines()
    return sum(1 for line in lines if "] NOTICE[" in line and "refused by its call policy" in line)


@pytest.mark.parametrize("destination", [PREMIUM, SATELLITE])
def test_r39_a_handset_dialling_a_class_not_allowed_hears_a_message_then_403(world, destination):
    alice = acme(world, "201")
    mark = world.asterisk.log_mark()
    with world.outside_world() as outside:
        result = world.call_from_handset(alice["handset"], destination, expect=REFUSED)
        assert result.status == REFUSED, result
        assert outside.wait_invites(1, 1) == []
    assert any(m.direction == "received" and m.status == 183 for m in result.messages), "the message is played"
    assert refusals_logged(world, mark) == 1


def test_r39_national_and_mobile_go_out_by_default(world):
    alice = acme(world, "201")
    with world.outside_world(calls=3) as outside:
        for destination in (LANDLINE, MOBILE, "07400123456"):  # the last dialled the national way
            assert world.call_from_handset(alice["handset"], destination, hold=1).ok
        invites = outside.wait_invites(3, 10)
    assert [i.request_user for i in invites] == [LANDLINE, MOBILE, MOBILE]


def test_r39_the_class_goes_out_once_the_operator_allows_it(world):
    alice = acme(world, "201")
    allow(world, "national,mobile,premium")
    with world.outside_world() as outside:
        assert world.call_from_handset(alice["handset"], PREMIUM, hold=1).ok
        (invite,) = outside.wait_invites(1, 10)
    assert invite.request_user == PREMIUM


def test_r39_a_forward_written_around_the_services_is_refused_at_call_time(world):
    """The store says forward always to a satellite number (no service checked it): the call still stops."""
    alice = acme(world, "201")
    with transaction(world.factory) as session:
        number = session.scalar(select(PhoneNumber).where(PhoneNumber.e164 == alice["number"]))
        session.execute(
            update(NumberFeatures)
            .where(NumberFeatures.number_id == number.id)
            .values({FORWARD_ALWAYS.column: SATELLITE})
        )
        outbox.number_changed(session, number)
    world.apply()
    with world.outside_world() as outside, world.handset_of(alice["handset"]) as desk:
        result = world.call_from_trunk(alice["number"], expect=REFUSED)
        assert result.status == REFUSED, result
        assert outside.wait_invites(1, 1) == []
    assert desk.invites == []


def test_r39_the_astdb_policy_is_what_the_call_obeys(world):
    """A node whose key says no mobile refuses mobile calls, whatever the store held when it was written."""
    alice = acme(world, "201")
    with transaction(world.factory) as session:
        occupier_id = session.scalar(select(Occupier.id).where(Occupier.name == "Acme Ltd"))
    world.run_with_ami(lambda ami: ami.db_put("pbx", f"occ/{occupier_id}/allow", "national"))
    with world.outside_world() as outside:
        assert world.call_from_handset(alice["handset"], MOBILE, expect=REFUSED).status == REFUSED
        assert outside.wait_invites(1, 1) == []


def test_r39_emergency_numbers_go_out_whatever_the_policy(world):
    alice = acme(world, "201")
    allow(world, "none")
    with world.outside_world(calls=4) as outside:
        for emergency in ("999", "112", "911"):
            assert world.call_from_handset(alice["handset"], emergency, hold=1).ok
        assert world.call_from_handset(alice["handset"], LANDLINE, expect=REFUSED).status == REFUSED
        invites = outside.wait_invites(3, 10)
    assert [i.request_user for i in invites] == ["999", "112", "911"]
