"""Issue 9 on real processes: the Asterisk node behind the SIP edge.

A new number and a new handset are a few AstDB puts and an edge credential (the store's
view), never a reload; the caller is who the edge authenticated, whatever it sends.
"""

from __future__ import annotations

import time

import pytest

from pbx.services import handsets, operator
from pbx.services.actor import Actor
from pbx.store import PhoneNumber, transaction
from tests.calls.test_controller import plant_sentinel, reloads_seen
from tests.calls.test_features import astdb
from tests.sip.handset import Handset

pytestmark = pytest.mark.asterisk
NEW_DID = "+442079460777"
NEW_EXTENSION = "277"
NEW_PHONE, NEW_PASSWORD = "desk-new-1", "desk-new-1-secret"


def _add_number_and_handset(world) -> int:
    """As the operator does it: allocate and activate a number, register a handset, log in."""
    actor = Actor.system("test")
    with transaction(world.factory) as session:
        alice = session.get(PhoneNumber, world.number_id("201"))
        number = operator.allocate_number(session, actor, alice.occupier_id, alice.site_id, NEW_DID, NEW_EXTENSION)
        operator.activate_number(session, actor, number.id)
        operator.register_handset(session, actor, alice.site_id, NEW_PHONE, NEW_PASSWORD)
        handsets.log_in_handset(session, actor, number.id, NEW_PHONE)
        return number.id


def test_r38_a_new_number_and_handset_are_callable_with_no_pjsip_or_dialplan_reload(world):
    """R38: a structural change (a new number, a new handset) goes live without reloading Asterisk."""
    alice = world.number(extension="201", occupier="Acme Ltd")
    plant_sentinel(world)
    mark = world.asterisk.log_mark()
    number_id = _add_number_and_handset(world)
    world.apply()
    # Which DID and extension is which number: AstDB, one key each (pbx/asterisk/routing.py).
    assert astdb(world, f"did/{NEW_DID[1:]}") == str(number_id)
    occupier = astdb(world, f"num/{number_id}/occ")
    assert astdb(world, f"ext/{occupier}/{NEW_EXTENSION}") == str(number_id)
    # The handset registers at the edge at once (its credential is a view of the store).
    with Handset(world.settings, NEW_PHONE, NEW_PASSWORD, calls=2, hold=5) as desk:
        result = world.call_from_trunk(NEW_DID)
        assert result.ok, result
        desk.wait_invites(1, 10)
        time.sleep(0.5)
        result = world.call_from_handset(alice["handset"], NEW_EXTENSION, hold=0.5)
        assert result.ok, result
        desk.wait_invites(2, 10)
    assert [i.request_user for i in desk.invites] == [NEW_PHONE, NEW_PHONE]
    assert desk.invites[1].from_.user == "201"
    # Mailboxes are still rendered (voicemail_pbx.conf) until they move to shared storage:
    # app_voicemail reloads for a new number; nothing else does.
    seen = [line for line in reloads_seen(world, mark) if "voicemail" not in line.lower()]
    assert seen == [], seen


def test_a_handset_cannot_call_as_another_by_sending_the_edges_header(world):
    alice, bob = world.number(extension="201", occupier="Acme Ltd"), world.number(extension="202", occupier="Acme Ltd")
    forged = {"X-PBX-Handset": bob["handset"], "X-PBX-Trunk": "carrier"}
    with world.handset_of(bob["handset"]) as desk:
        result = world.call_from_handset(alice["handset"], "202", headers=forged)
        assert result.ok, result
        desk.wait_invites(1, 10)
    invite = desk.invites[0]
    assert invite.from_.user == "201"  # alice, as the edge authenticated her
    assert not [name for name, _ in invite.message.headers if name.lower().startswith("x-pbx-")]


def test_a_call_from_a_stranger_on_the_trunk_port_is_refused_at_the_edge(world):
    alice = world.number(extension="201", occupier="Acme Ltd")
    result = world.call_from_trunk(alice["number"], expect=403, source="127.0.0.1")
    assert result.status == 403, result


def test_a_number_that_stops_being_live_loses_its_did_and_extension_keys(world):
    """did/ and ext/ keys are not under num/<id>/: the controller deletes them explicitly."""
    number_id = _add_number_and_handset(world)
    world.apply()
    occupier = astdb(world, f"num/{number_id}/occ")
    assert astdb(world, f"did/{NEW_DID[1:]}") == str(number_id)
    with transaction(world.factory) as session:
        operator.set_voice_services(session, Actor.system("test"), int(occupier), False)
    world.apply()
    assert astdb(world, f"num/{number_id}/e164") is None
    assert astdb(world, f"did/{NEW_DID[1:]}") is None
    assert astdb(world, f"ext/{occupier}/{NEW_EXTENSION}") is None
    assert world.call_from_trunk(NEW_DID, expect=404).status == 404
