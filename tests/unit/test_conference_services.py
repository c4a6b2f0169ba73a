"""R44: the meet-me conference's rules (pbx.services.conference, pbx.services.phone.conference) on the demo world."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from pbx.asterisk.live_state import number_keys
from pbx.asterisk.snapshot import load_snapshot
from pbx.services import conference, phone
from pbx.services.actor import Actor
from pbx.services.errors import Forbidden, InvalidInput, NotFound, RuleBroken
from pbx.store import Occupier, User, transaction
from tests.store.helpers import number

PIN = "4821"
CONFERENCE_NUMBER = "+442079460204"
OUTSIDE = Actor.system("caller to conference number")


def run(factory, fn, *args):
    with transaction(factory) as session:
        return fn(session, *args)


def occupier_id(factory, name: str) -> int:
    return run(factory, lambda s: s.scalar(select(Occupier.id).where(Occupier.name == name)))


def admin(factory, email: str) -> Actor:
    return run(factory, lambda s: Actor.of(s.scalar(select(User).where(User.email == email))))


@pytest.fixture
def acme(demo_store) -> int:
    acme = occupier_id(demo_store, "Acme Ltd")
    run(demo_store, conference.set_conference_pin, admin(demo_store, "admin@acme.example"), acme, PIN)
    return acme


def test_r44_three_wrong_pins_in_a_row_lock_the_bridge_until_a_new_pin(demo_store, acme):
    desk = Actor.handset("desk-os-1", None, None)
    assert run(demo_store, phone.conference_of_handset, desk) == acme
    assert run(demo_store, phone.enter_conference, desk, acme, "0000") == (phone.Entry.WRONG, "")
    assert run(demo_store, phone.enter_conference, desk, acme, PIN) == (phone.Entry.OK, f"occ{acme}")
    for expected in (phone.Entry.WRONG, phone.Entry.WRONG, phone.Entry.LOCKED, phone.Entry.LOCKED):
        assert run(demo_store, phone.enter_conference, desk, acme, "0000")[0] is expected
    assert run(demo_store, phone.enter_conference, desk, acme, PIN)[0] is phone.Entry.LOCKED
    run(demo_store, conference.set_conference_pin, admin(demo_store, "admin@acme.example"), acme, "5937")
    assert run(demo_store, phone.enter_conference, desk, acme, "5937")[0] is phone.Entry.OK


def test_r44_a_handset_reaches_only_its_own_occupiers_bridge(demo_store, acme):
    assert run(demo_store, phone.conference_of_handset, Actor.handset("desk-os-4", None, None)) is None  # Globex
    assert run(demo_store, phone.conference_of_handset, Actor.handset("desk-os-5", None, None)) is None  # nobody's


def test_r44_the_conference_number_leads_to_the_bridge_and_its_key_says_so(demo_store, acme):
    number_id = run(demo_store, lambda s: number(s, CONFERENCE_NUMBER).id)
    assert run(demo_store, phone.conference_of_number, OUTSIDE, number_id) is None
    run(demo_store, conference.set_conference_number, Actor.system("operator"), acme, number_id)
    assert run(demo_store, phone.conference_of_number, OUTSIDE, number_id) == acme
    views = {n.e164: n for n in run(demo_store, load_snapshot).numbers}
    assert number_keys(views[CONFERENCE_NUMBER])[f"num/{number_id}/conf"] == "1"
    assert number_keys(views["+442079460201"])[f"num/{views['+442079460201'].id}/conf"] == ""


def test_r44_only_the_operator_assigns_the_number_and_only_admins_set_the_pin(demo_store, acme):
    number_id = run(demo_store, lambda s: number(s, CONFERENCE_NUMBER).id)
    with pytest.raises(Forbidden):
        run(demo_store, conference.set_conference_number, admin(demo_store, "admin@acme.example"), acme, number_id)
    with pytest.raises(Forbidden):
        run(demo_store, conference.set_conference_pin, admin(demo_store, "alice@acme.example"), acme, "5937")
    with pytest.raises(NotFound):  # R3: another occupier's bridge is not even found
        run(demo_store, conference.set_conference_pin, admin(demo_store, "admin@globex.example"), acme, "5937")
    with pytest.raises(InvalidInput):
        run(demo_store, conference.set_conference_pin, admin(demo_store, "admin@acme.example"), acme, "9876")
    with pytest.raises(RuleBroken):
        alice_number = run(demo_store, lambda s: number(s, "+442079460201").id)
        run(demo_store, conference.set_conference_number, Actor.system("operator"), acme, alice_number)
