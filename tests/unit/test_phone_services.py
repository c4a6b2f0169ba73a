"""The phone's rules (pbx.services.phone) as a person at a handset meets them, on the demo world.

Each service call runs in its own transaction, as the Stasis app runs them.
"""

from __future__ import annotations

import dataclasses
import json

import pytest
from sqlalchemy import select

from pbx.services import features, handsets, phone
from pbx.services.actor import Actor
from pbx.services.errors import Forbidden, InvalidInput, NotFound, RuleBroken
from pbx.services.phone import Reach
from pbx.services.phone import proof as proofs
from pbx.services.pins import PinCheck
from pbx.store import AuditEntry, Handset, PhoneNumber, Site, transaction
from tests.store.helpers import number

ALICE = "+442079460201"  # Acme 201, Old Street, logged in to desk-os-1
ACME_FREE = "+442079460204"  # Acme 204, Old Street, not logged in, default PIN 851736
ACME_KX = "+442079460302"  # Acme 302, King's Cross
GLOBEX_FREE = "+442079460502"  # Globex 202, Old Street (Acme has a 202 there too)
EMPTY_DESK, OTHER_EMPTY_DESK = "desk-os-5", "desk-os-6"  # Old Street, nothing logged in
CUSTOM_PIN = "480915"
CODE = "4826"
OUTSIDE = "+447700900456"


def run(factory, fn, *args):
    with transaction(factory) as session:
        return fn(session, *args)


def desk(factory, phone_id: str) -> phone.Desk:
    found = run(factory, phone.find_desk, Actor.handset(phone_id, None, None))
    assert found is not None
    return found


def number_id(factory, e164: str) -> int:
    return run(factory, lambda session: number(session, e164).id)


def pin_of(factory, e164: str) -> str:
    return run(factory, lambda session: number(session, e164).default_pin)


def prove(factory, phone_id: str, e164: str, reach: Reach = Reach.SITE) -> phone.PinProof:
    """The default PIN keyed, then a custom PIN chosen: a proof good for everything a PIN opens."""
    actor = desk(factory, phone_id).actor
    result = run(factory, phone.check_pin, actor, number_id(factory, e164), pin_of(factory, e164), reach)
    assert result.check is PinCheck.MUST_CHANGE and result.proof is not None
    return run(factory, phone.set_custom_pin, actor, result.proof, CUSTOM_PIN)


def audit(factory, action: str) -> list[AuditEntry]:
    return run(
        factory,
        lambda session: list(
            session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id))
        ),
    )


def test_the_desk_is_the_handset_and_the_number_logged_in_there(demo_store):
    alice = desk(demo_store, "desk-os-1")
    empty = desk(demo_store, EMPTY_DESK)

    assert (alice.number_id, alice.extension, alice.country) == (number_id(demo_store, ALICE), "201", "GB")
    assert alice.actor == Actor.handset("desk-os-1", alice.occupier_id, alice.number_id)
    assert not alice.actor.is_operator and not alice.actor.is_admin
    assert empty.number_id is None and empty.actor.number_id is None
    assert run(demo_store, phone.find_desk, Actor.handset("no-such-phone", None, None)) is None


def test_only_a_handset_acts_through_the_phone_services(demo_store):
    with pytest.raises(Forbidden):
        run(demo_store, phone.find_numbers, Actor.system(), "201", Reach.SITE)


def test_r22_emergency_numbers_include_the_sites_own(demo_store):
    def local(session):
        session.scalar(select(Site).where(Site.name == "London - Old Street")).local_emergency = "18001111"

    run(demo_store, local)

    assert desk(demo_store, "desk-os-1").emergency == frozenset({"112", "999", "911", "18001111"})
    assert phone.is_emergency("+4418001111", frozenset({"18001111"}))
    assert not phone.is_emergency(OUTSIDE, frozenset({"999", "112"}))


def test_r3_star98_reaches_only_the_callers_own_occupier(demo_store):
    acme, globex = desk(demo_store, "desk-os-1").actor, desk(demo_store, "desk-os-4").actor

    assert [r.number_id for r in run(demo_store, phone.find_numbers, acme, "202", Reach.OCCUPIER)] == [
        number_id(demo_store, "+442079460202")
    ]
    assert [r.number_id for r in run(demo_store, phone.find_numbers, globex, "202", Reach.OCCUPIER)] == [
        number_id(demo_store, GLOBEX_FREE)
    ]
    # Its own occupier at another site, yes; another occupier's full number, no.
    assert [r.extension for r in run(demo_store, phone.find_numbers, acme, "302", Reach.OCCUPIER)] == ["302"]
    assert run(demo_store, phone.find_numbers, acme, "02079460502", Reach.OCCUPIER) == []


def test_r15_star11_reaches_the_sites_numbers_and_asks_which_when_extensions_repeat(demo_store):
    actor = desk(demo_store, EMPTY_DESK).actor

    assert len(run(demo_store, phone.find_numbers, actor, "201", Reach.SITE)) == 2
    assert [r.number_id for r in run(demo_store, phone.find_numbers, actor, "02079460501", Reach.SITE)] == [
        number_id(demo_store, "+442079460501")
    ]
    assert run(demo_store, phone.find_numbers, actor, "302", Reach.SITE) == []  # King's Cross
    assert run(demo_store, phone.find_numbers, actor, "100", Reach.SITE) == []  # a main number (R5)
    assert run(demo_store, phone.find_numbers, actor, "205", Reach.SITE) == []  # reserved (R6)


def test_r3_no_pin_attempt_outside_the_reach(demo_store):
    acme, empty = desk(demo_store, "desk-os-1").actor, desk(demo_store, EMPTY_DESK).actor
    globex_free = number_id(demo_store, GLOBEX_FREE)

    with pytest.raises(NotFound):
        run(demo_store, phone.check_pin, acme, globex_free, pin_of(demo_store, GLOBEX_FREE), Reach.OCCUPIER)
    with pytest.raises(NotFound):
        run(demo_store, phone.check_pin, empty, number_id(demo_store, ACME_KX), "000000", Reach.SITE)
    with pytest.raises(NotFound):
        run(demo_store, phone.check_pin, acme, number_id(demo_store, ACME_FREE), "000000", Reach.OWN)
    assert audit(demo_store, "pin.attempt") == []


def test_r3_a_handset_never_reaches_another_occupiers_number(demo_store):
    acme = desk(demo_store, "desk-os-1").actor
    globex_free = number_id(demo_store, GLOBEX_FREE)

    for act in (
        lambda s: features.update_features(s, acme, globex_free, {"dnd": "on"}),
        lambda s: phone.authcode_needed(s, acme, globex_free, OUTSIDE),
        lambda s: phone.check_authcode(s, acme, globex_free, CODE, OUTSIDE),
    ):
        with pytest.raises(NotFound):
            run(demo_store, act)


def test_r34_a_handset_changes_its_own_numbers_features(demo_store):
    actor = desk(demo_store, "desk-os-1").actor
    alice = number_id(demo_store, ALICE)

    run(demo_store, phone.change_feature, actor, "*78")
    run(demo_store, phone.change_feature, actor, "*72", "02079460202")
    shown = run(demo_store, features.show_features, actor, alice)

    assert (shown["dnd"], shown["forward_always"]) == (True, "+442079460202")
    with pytest.raises(InvalidInput):
        run(demo_store, phone.change_feature, actor, "*72", "")
    run(demo_store, phone.change_feature, actor, "*73")
    assert run(demo_store, features.show_features, actor, alice)["forward_always"] == ""
    assert {e.actor for e in audit(demo_store, "number.features")} == {"handset desk-os-1"}


def test_r34_no_feature_code_without_a_number_logged_in(demo_store):
    with pytest.raises(NotFound):
        run(demo_store, phone.change_feature, desk(demo_store, EMPTY_DESK).actor, "*78")


def test_r22_a_handset_cannot_set_an_authorization_code(demo_store):
    actor = desk(demo_store, "desk-os-1").actor

    with pytest.raises(Forbidden):
        run(demo_store, features.update_features, actor, actor.number_id, {"authorization_code": CODE})
    with pytest.raises(Forbidden):
        run(
            demo_store,
            features.update_features,
            prove(demo_store, EMPTY_DESK, ACME_FREE).actor,
            number_id(demo_store, ACME_FREE),
            {"authorization_code": CODE},
        )


def test_r17_the_default_pin_opens_nothing_but_the_choice_of_a_custom_pin(demo_store):
    actor = desk(demo_store, EMPTY_DESK).actor
    free = number_id(demo_store, ACME_FREE)

    result = run(demo_store, phone.check_pin, actor, free, pin_of(demo_store, ACME_FREE), Reach.SITE)

    assert result.check is PinCheck.MUST_CHANGE and result.proof is not None and result.proof.new_pin_needed
    for opens in (phone.log_in, phone.open_voicemail):
        with pytest.raises(Forbidden):
            run(demo_store, opens, actor, result.proof)
    with pytest.raises(RuleBroken) as weak:
        run(demo_store, phone.set_custom_pin, actor, result.proof, "1234")
    assert weak.value.rule == "R19"
    proof = run(demo_store, phone.set_custom_pin, actor, result.proof, CUSTOM_PIN)
    assert run(demo_store, phone.open_voicemail, actor, proof) == free


def test_r15_star11_logs_the_proved_number_in_to_this_handset(demo_store):
    actor = desk(demo_store, EMPTY_DESK).actor
    proof = prove(demo_store, EMPTY_DESK, ACME_FREE)

    run(demo_store, phone.log_in, actor, proof)

    assert desk(demo_store, EMPTY_DESK).number_id == number_id(demo_store, ACME_FREE)
    assert [e.actor for e in audit(demo_store, "handset.login")][-1] == f"handset {EMPTY_DESK}"
    assert run(demo_store, phone.log_out, desk(demo_store, EMPTY_DESK).actor) == "204"
    assert run(demo_store, phone.log_out, desk(demo_store, EMPTY_DESK).actor) is None


def test_r15_a_handset_cannot_log_a_number_in_to_another_handset(demo_store):
    proof = prove(demo_store, EMPTY_DESK, ACME_FREE)
    free = number_id(demo_store, ACME_FREE)

    with pytest.raises(Forbidden):
        run(demo_store, phone.log_in, desk(demo_store, OTHER_EMPTY_DESK).actor, proof)
    with pytest.raises(Forbidden):
        run(demo_store, handsets.log_in_handset, proof.actor, free, OTHER_EMPTY_DESK)
    with pytest.raises(Forbidden):
        run(demo_store, lambda s: handsets.log_in(s, proof.actor, s.get(PhoneNumber, free), OTHER_EMPTY_DESK))
    assert (
        run(demo_store, lambda s: s.scalar(select(Handset).where(Handset.phone_id == OTHER_EMPTY_DESK)).number_id)
        is None
    )


def test_r16_a_proof_cannot_be_made_up_edited_moved_or_kept(demo_store, monkeypatch):
    actor = desk(demo_store, EMPTY_DESK).actor
    proof = prove(demo_store, EMPTY_DESK, ACME_FREE)
    made_up = phone.PinProof(EMPTY_DESK, proof.occupier_id, proof.number_id, False, proof.issued, "0" * 64)
    edited = dataclasses.replace(proof, number_id=number_id(demo_store, "+442079460202"))

    for bad in (made_up, edited):
        with pytest.raises(Forbidden):
            run(demo_store, phone.open_voicemail, actor, bad)
    with pytest.raises(Forbidden):  # proved on another handset
        run(demo_store, phone.open_voicemail, desk(demo_store, OTHER_EMPTY_DESK).actor, proof)
    monkeypatch.setattr(proofs.time, "monotonic", lambda: proof.issued + proofs.PROOF_MAX_S + 1)
    with pytest.raises(Forbidden):
        run(demo_store, phone.open_voicemail, actor, proof)


def test_r18_three_wrong_pins_lock_and_a_lock_stops_an_earlier_proof(demo_store):
    actor = desk(demo_store, EMPTY_DESK).actor
    free = number_id(demo_store, ACME_FREE)
    proof = prove(demo_store, EMPTY_DESK, ACME_FREE)

    checks = [
        run(demo_store, phone.check_pin, actor, free, wrong, Reach.SITE).check
        for wrong in ("000001", "000002", "000003")
    ]
    right = run(demo_store, phone.check_pin, actor, free, CUSTOM_PIN, Reach.SITE)

    assert checks == [PinCheck.WRONG, PinCheck.WRONG, PinCheck.LOCKED]
    assert right.check is PinCheck.LOCKED and right.proof is None
    with pytest.raises(RuleBroken) as locked:
        run(demo_store, phone.log_in, actor, proof)
    assert locked.value.rule == "R18"


def test_r22_the_code_is_asked_except_for_emergencies_and_every_attempt_is_audited(demo_store):
    actor = desk(demo_store, "desk-os-1").actor
    alice = number_id(demo_store, ALICE)
    assert not run(demo_store, phone.authcode_needed, actor, alice, OUTSIDE)
    run(demo_store, features.update_features, Actor.system(), alice, {"authorization_code": CODE})

    assert run(demo_store, phone.authcode_needed, actor, alice, OUTSIDE)
    assert not run(demo_store, phone.authcode_needed, actor, alice, "+44999")
    results = [run(demo_store, phone.check_authcode, actor, alice, code, OUTSIDE) for code in (CODE, "9999", "")]

    assert results == [True, False, False]
    attempts = [json.loads(e.detail) for e in audit(demo_store, "authcode.attempt")]
    assert [a["result"] for a in attempts] == ["ok", "wrong", "missing"]
    assert all(CODE not in json.dumps(a) and "9999" not in json.dumps(a) for a in attempts)
