"""R39 at save time: an occupier's outbound call policy refuses forwards and main-number
destinations it does not allow, through the same services the web UI, the API, the CLI
and the feature codes use."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from pbx.services import call_policy, features, operator
from pbx.services.actor import Actor
from pbx.services.errors import Forbidden, InvalidInput, RuleBroken
from pbx.store import AuditEntry, Occupier, OutboxEntry, transaction
from tests.store.helpers import actor, number

ACME_ADMIN = "admin@acme.example"
FREE = "+442079460204"  # Acme, Old Street (GB), active, unassigned
SATELLITE = "+88213200000"  # Iridium-class international network
PREMIUM = "+449098790000"  # UK 09 premium rate
FOREIGN_PREMIUM = "+33899123456"
MOBILE = "+447400123456"
LANDLINE = "+442079460999"
ABROAD = "+33142685300"
OPERATOR = Actor.system("test")


def acme(session) -> Occupier:
    return session.scalar(select(Occupier).where(Occupier.name == "Acme Ltd"))


def test_r39_classes_come_from_the_number_seen_from_the_site():
    assert call_policy.classify(LANDLINE, "GB") == ("national",)
    assert call_policy.classify(MOBILE, "GB") == ("mobile",)
    assert call_policy.classify(PREMIUM, "GB") == ("premium",)
    assert call_policy.classify(SATELLITE, "GB") == ("satellite",)
    assert call_policy.classify("+870772001799", "GB") == ("satellite",)
    assert call_policy.classify(ABROAD, "GB") == ("international",)
    assert call_policy.classify(FOREIGN_PREMIUM, "GB") == ("international", "premium")
    assert call_policy.classify(MOBILE, "FR") == ("international",)
    assert call_policy.classify("+18765550100", "US") == ("international",)  # Jamaica shares +1


def test_r39_every_occupier_starts_with_national_and_mobile(demo_factory):
    with transaction(demo_factory) as session:
        assert {call_policy.allowed_classes(o) for o in session.scalars(select(Occupier))} == {("national", "mobile")}


@pytest.mark.parametrize("target", [SATELLITE, PREMIUM, FOREIGN_PREMIUM, ABROAD])
def test_r39_a_forward_to_a_class_not_allowed_is_refused_and_nothing_saved(demo_factory, target):
    with transaction(demo_factory) as session:
        n = number(session, FREE)
        with pytest.raises(RuleBroken) as refused:
            features.update_features(session, actor(session, ACME_ADMIN), n.id, {"forward_busy": target})
        assert refused.value.rule == "R39"
        assert "are not allowed for Acme Ltd" in refused.value.message and target in refused.value.message
    with transaction(demo_factory) as session:
        assert features.show_features(session, OPERATOR, number(session, FREE).id)["forward_busy"] == ""


def test_r39_the_refusal_names_the_class_for_the_admin(demo_factory):
    with transaction(demo_factory) as session, pytest.raises(RuleBroken) as refused:
        features.update_features(session, OPERATOR, number(session, FREE).id, {"forward_always": SATELLITE})
    assert refused.value.message == (
        f"Satellite calls are not allowed for Acme Ltd: {SATELLITE} (forward always) is a satellite number. "
        "The operator can allow them in the console."
    )


def test_r39_national_and_mobile_forwards_are_allowed_by_default(demo_factory):
    with transaction(demo_factory) as session:
        n = number(session, FREE)
        features.update_features(session, OPERATOR, n.id, {"forward_always": MOBILE, "forward_no_answer": LANDLINE})


def test_r39_main_number_destination_obeys_the_policy(demo_factory):
    with transaction(demo_factory) as session:
        main = number(session, "+442079460100")
        with pytest.raises(RuleBroken) as refused:
            operator.set_main_number(session, OPERATOR, main.id, PREMIUM)
        assert refused.value.rule == "R39" and "main number destination" in refused.value.message


def test_r39_allowed_after_the_operator_allows_the_class(demo_factory):
    with transaction(demo_factory) as session:
        occupier = call_policy.set_allowed_classes(session, OPERATOR, acme(session).id, "national,mobile,satellite")
        assert call_policy.allowed_classes(occupier) == ("national", "mobile", "satellite")
    with transaction(demo_factory) as session:
        features.update_features(session, OPERATOR, number(session, FREE).id, {"forward_always": SATELLITE})
        call_policy.set_allowed_classes(session, OPERATOR, acme(session).id, ["premium", "national"])
        operator.set_main_number(session, OPERATOR, number(session, "+442079460100").id, PREMIUM)


def test_r39_foreign_premium_needs_international_and_premium(demo_factory):
    with transaction(demo_factory) as session:
        n = number(session, FREE)
        call_policy.set_allowed_classes(session, OPERATOR, acme(session).id, "international")
        with pytest.raises(RuleBroken) as refused:
            features.update_features(session, OPERATOR, n.id, {"forward_always": FOREIGN_PREMIUM})
        assert refused.value.message.startswith("Premium/special-rate calls are not allowed")
        call_policy.set_allowed_classes(session, OPERATOR, acme(session).id, "international,premium")
        features.update_features(session, OPERATOR, n.id, {"forward_always": FOREIGN_PREMIUM})


def test_r39_only_the_operator_sets_the_policy_and_it_is_audited_and_queued(demo_factory):
    with transaction(demo_factory) as session:
        with pytest.raises(Forbidden):
            call_policy.set_allowed_classes(session, actor(session, ACME_ADMIN), acme(session).id, "premium")
        with pytest.raises(InvalidInput):
            call_policy.set_allowed_classes(session, OPERATOR, acme(session).id, "national,expensive")
        before = session.scalar(select(OutboxEntry.id).order_by(OutboxEntry.id.desc()).limit(1)) or 0
        call_policy.set_allowed_classes(session, OPERATOR, acme(session).id, "none")
        assert acme(session).allowed_classes == ""
        queued = session.scalars(select(OutboxEntry.subject_id).where(OutboxEntry.id > before)).all()
        assert number(session, FREE).id in queued
        (entry,) = session.scalars(select(AuditEntry).where(AuditEntry.action == "occupier.call_policy")).all()
        assert json.loads(entry.detail) == {"classes": []}


def test_r39_our_own_numbers_and_extensions_are_never_refused(demo_factory):
    with transaction(demo_factory) as session:
        call_policy.set_allowed_classes(session, OPERATOR, acme(session).id, "none")
        n = number(session, FREE)
        features.update_features(session, OPERATOR, n.id, {"forward_always": "202"})
        features.update_features(session, OPERATOR, n.id, {"forward_always": "+442079460501"})  # Globex's, ours


def test_r39_emergency_numbers_are_never_refused_by_the_policy(demo_factory):
    with transaction(demo_factory) as session:
        call_policy.set_allowed_classes(session, OPERATOR, acme(session).id, "none")
        n = number(session, FREE)
        n.site.local_emergency = "101"
        for emergency in ("112", "999", "911", "+44999", "+44101"):
            call_policy.check_destination(session, n, emergency)
