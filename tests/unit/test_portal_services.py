"""R42: the voice portal's rules (pbx.services.phone.portal, pbx.services.portal_number) on the demo world.

Each service call runs in its own transaction, as the Stasis app runs them.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from pbx.asterisk.live_state import live_state
from pbx.asterisk.outbox import next_batch, wanted_keys
from pbx.asterisk.snapshot import load_snapshot
from pbx.services import features, operator, phone, portal_number
from pbx.services.actor import Actor
from pbx.services.errors import Conflict, FieldErrors, Forbidden, InvalidInput, NotFound, RuleBroken
from pbx.services.phone import portal
from pbx.services.pins import PinCheck
from pbx.store import AuditEntry, PhoneNumber, Site, transaction
from pbx.store.models import Occupier, Role
from tests.store.helpers import number

PORTAL = "+442079460999"
ALICE = "+442079460201"  # Acme 201, Old Street, logged in to desk-os-1
ACME_FREE = "+442079460204"  # Acme 204, Old Street, default PIN 851736
ACME_KX = "+442079460302"  # Acme 302, King's Cross
CUSTOM_PIN = "480915"
OPERATOR = Actor.system("test")


def run(factory, fn, *args):
    with transaction(factory) as session:
        return fn(session, *args)


def site_id(factory, name: str = "London - Old Street") -> int:
    return run(factory, lambda s: s.scalar(select(Site.id).where(Site.name == name)))


def number_id(factory, e164: str) -> int:
    return run(factory, lambda s: number(s, e164).id)


def at_portal(factory, phone_id: str = "") -> portal.Portal:
    found = run(factory, portal.find_portal, str(site_id(factory)), phone_id)
    assert found is not None
    return found


def prove(factory, at: portal.Portal, e164: str) -> phone.PinProof:
    """The default PIN keyed at the portal, then a custom PIN chosen."""
    pin = run(factory, lambda s: number(s, e164).default_pin)
    result = run(factory, portal.check_pin, at, number_id(factory, e164), pin)
    assert result.check is PinCheck.MUST_CHANGE and result.proof is not None
    return run(factory, phone.set_custom_pin, at.actor, result.proof, CUSTOM_PIN)


# -- the operator sets the portal number ---------------------------------------------------------
def test_r42_the_operator_sets_a_portal_number_per_site_queued_for_asterisk(demo_store):
    old_street = site_id(demo_store)
    shown = run(demo_store, portal_number.set_portal_number, OPERATOR, old_street, "+44 20 7946 0999")
    assert (shown.site, shown.portal_number) == ("London - Old Street", PORTAL)

    with transaction(demo_store) as session:
        batch = next_batch(session, (0, 0), None)
        assert old_street in batch.site_ids
        keys, _ = wanted_keys(session, batch)
        assert keys["did/442079460999"] == f"p{old_street}"
        assert keys[f"site/{old_street}/portal"] == "did/442079460999"
        state = live_state(load_snapshot(session))
        assert state["did/442079460999"] == f"p{old_street}"
        assert state[f"site/{site_id(demo_store, 'Manchester - Spinningfields')}/portal"] == ""
    actions = run(demo_store, lambda s: [a.action for a in s.scalars(select(AuditEntry))])
    assert "site.portal_number" in actions

    run(demo_store, portal_number.clear_portal_number, OPERATOR, old_street)
    with transaction(demo_store) as session:
        assert "did/442079460999" not in live_state(load_snapshot(session))


def test_r42_a_portal_number_is_valid_unique_and_never_an_allocated_number(demo_store):
    old_street, kx = site_id(demo_store), site_id(demo_store, "London - King's Cross")
    with pytest.raises(InvalidInput):
        run(demo_store, portal_number.set_portal_number, OPERATOR, old_street, "12")
    with pytest.raises(Conflict):
        run(demo_store, portal_number.set_portal_number, OPERATOR, old_street, ALICE)
    run(demo_store, portal_number.set_portal_number, OPERATOR, old_street, PORTAL)
    with pytest.raises(Conflict):
        run(demo_store, portal_number.set_portal_number, OPERATOR, kx, PORTAL)
    with pytest.raises(NotFound):
        run(demo_store, portal_number.set_portal_number, OPERATOR, 999, "+442079460998")
    acme = run(demo_store, lambda s: s.scalar(select(Occupier.id).where(Occupier.name == "Acme Ltd")))
    with pytest.raises((Conflict, FieldErrors)):
        run(demo_store, operator.allocate_number, OPERATOR, acme, old_street, PORTAL, "299")


def test_r42_only_the_operator_sets_a_portal_number(demo_store):
    for someone in (Actor(label="admin", role=Role.OCCUPIER_ADMIN, occupier_id=1), Actor.handset("desk-os-1", 1, 1)):
        with pytest.raises(Forbidden):
            run(demo_store, portal_number.set_portal_number, someone, site_id(demo_store), PORTAL)
    with pytest.raises(Forbidden):
        run(demo_store, portal_number.set_portal_number, Actor.portal(1, None, None), site_id(demo_store), PORTAL)


# -- the caller at the portal -----------------------------------------------------------------------
def test_r42_the_portal_actor_is_no_operator_and_holds_only_the_proved_number(demo_store):
    actor = Actor.portal(1, 2, 3)
    assert actor.is_portal and not actor.is_operator and not actor.is_admin and not actor.is_handset
    assert actor.holds(3, None) and not actor.holds(4, None)


def test_r42_from_outside_only_full_numbers_of_the_portals_site_are_reached(demo_store):
    outside = at_portal(demo_store)
    assert outside.occupier_id is None
    assert run(demo_store, portal.find_number, outside, "02079460201") == number_id(demo_store, ALICE)
    assert run(demo_store, portal.find_number, outside, "442079460201") == number_id(demo_store, ALICE)
    assert run(demo_store, portal.find_number, outside, "201") is None  # no extension from outside
    assert run(demo_store, portal.find_number, outside, "02079460302") is None  # King's Cross
    assert run(demo_store, portal.find_number, outside, "02079460100") is None  # a main number (R5)


def test_r42_r3_from_a_handset_only_its_own_occupiers_extensions(demo_store):
    hank = at_portal(demo_store, "desk-os-4")  # Globex 201
    alice = at_portal(demo_store, "desk-os-1")  # Acme 201
    assert run(demo_store, portal.find_number, hank, "204") is None  # Acme's
    assert run(demo_store, portal.find_number, alice, "204") == number_id(demo_store, ACME_FREE)
    assert run(demo_store, portal.find_number, hank, "201") == number_id(demo_store, "+442079460501")
    here = run(demo_store, portal.find_portal, portal.HERE, "desk-os-1")
    assert here is not None and here.site_id == site_id(demo_store)
    assert run(demo_store, portal.find_portal, portal.HERE, "") is None


def test_r42_a_proof_changes_features_through_the_services_never_the_operators(demo_store):
    at = at_portal(demo_store)
    proof = prove(demo_store, at, ACME_FREE)
    run(demo_store, portal.set_forward_always, at.actor, proof, "202")
    run(demo_store, portal.set_dnd, at.actor, proof, True)
    state = run(demo_store, portal.state, at.actor, proof)
    assert (state.forward_always, state.dnd) == ("202", True)
    with pytest.raises(RuleBroken) as refused:
        run(demo_store, portal.set_forward_always, at.actor, proof, "00449098790000")  # premium
    assert refused.value.rule == "R39"

    proved = proof.actor
    with pytest.raises(Forbidden):  # R22: the authorization code is the operator's
        run(demo_store, features.update_features, proved, proof.number_id, {"authorization_code": "4826"})
    with pytest.raises(NotFound):  # another number
        run(demo_store, features.update_features, proved, number_id(demo_store, ALICE), {"dnd": True})


def test_r42_a_portal_proof_is_good_only_at_that_portal(demo_store):
    at = at_portal(demo_store)
    proof = prove(demo_store, at, ACME_FREE)
    with pytest.raises(Forbidden):
        run(demo_store, portal.set_dnd, Actor.portal(at.site_id + 1, None, None), proof, True)
    with pytest.raises(Forbidden):
        run(demo_store, phone.open_voicemail, Actor.handset("desk-os-1", None, None), proof)
    assert run(demo_store, phone.open_voicemail, at.actor, proof) == proof.number_id


def test_r42_r18_wrong_pins_at_the_portal_count_and_lock(demo_store):
    at = at_portal(demo_store)
    target = number_id(demo_store, ACME_FREE)
    results = [run(demo_store, portal.check_pin, at, target, pin).check for pin in ("111111", "222222", "333333")]
    assert results == [PinCheck.WRONG, PinCheck.WRONG, PinCheck.LOCKED]
    assert run(demo_store, lambda s: s.get(PhoneNumber, target).pin_locked) is True
    pin = run(demo_store, lambda s: number(s, ACME_FREE).default_pin)
    assert run(demo_store, portal.check_pin, at, target, pin).check is PinCheck.LOCKED
    with pytest.raises(NotFound):  # a King's Cross number is not this portal's
        run(demo_store, portal.check_pin, at, number_id(demo_store, ACME_KX), "111111")


def test_r42_r18_a_pin_locked_since_the_proof_opens_nothing_more(demo_store):
    at = at_portal(demo_store)
    proof = prove(demo_store, at, ACME_FREE)
    for pin in ("111111", "222222", "333333"):
        run(demo_store, portal.check_pin, at, proof.number_id, pin)  # someone else, at the same time
    with pytest.raises(RuleBroken) as refused:
        run(demo_store, portal.set_dnd, at.actor, proof, True)
    assert refused.value.rule == "R18"
