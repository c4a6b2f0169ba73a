"""The product rules enforced by pbx.services, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from pbx.services import assignment, features, handsets, numbers, operator, pins
from pbx.services.actor import Actor
from pbx.services.errors import Conflict, FieldErrors, Forbidden, InvalidInput, NotFound, RuleBroken
from pbx.services.pins import PinCheck
from pbx.store import AuditEntry, NumberStatus, OutboxEntry, transaction
from pbx.store.models import Role
from tests.store.helpers import actor, number, user

ACME_ADMIN = "admin@acme.example"
GLOBEX_ADMIN = "admin@globex.example"
FREE = "+442079460204"  # Acme, Old Street, active, unassigned, not logged in


def _settle(session, n):
    n.status = NumberStatus.ACTIVE


def test_r3_another_occupiers_number_is_not_found(demo_factory):
    with transaction(demo_factory) as session:
        with pytest.raises(NotFound):
            features.show_features(session, actor(session, GLOBEX_ADMIN), number(session, FREE).id)
        with pytest.raises(NotFound):
            numbers.list_numbers(
                session, actor(session, GLOBEX_ADMIN), number(session, FREE).occupier_id, number(session, FREE).site_id
            )


def test_r3_a_user_sees_only_their_own_number(demo_factory):
    with transaction(demo_factory) as session:
        alice = actor(session, "alice@acme.example")
        assert features.show_features(session, alice, number(session, "+442079460201").id)["extension"] == "201"
        with pytest.raises(NotFound):
            features.show_features(session, alice, number(session, "+442079460202").id)


def test_r2_no_voice_services_no_changes(demo_factory):
    with transaction(demo_factory) as session:
        acme = number(session, FREE).occupier
        operator.set_voice_services(session, Actor.system(), acme.id, False)
        with pytest.raises(RuleBroken) as refused:
            features.update_features(session, actor(session, ACME_ADMIN), number(session, FREE).id, {"dnd": "on"})
        assert refused.value.rule == "R2"


def test_r5_r6_main_and_reserved_numbers_have_no_actions(demo_factory):
    with transaction(demo_factory) as session:
        admin = actor(session, ACME_ADMIN)
        with pytest.raises(RuleBroken) as main:
            assignment.set_display_name(session, admin, number(session, "+442079460100").id, "Front", "Desk")
        assert main.value.rule == "R5"
        with pytest.raises(RuleBroken) as reserved:
            pins.reset_pin(session, admin, number(session, "+442079460205").id)
        assert reserved.value.rule == "R6"


def test_r7_sites_alphabetical_and_r10_assigned_to(demo_factory):
    with transaction(demo_factory) as session:
        admin = actor(session, ACME_ADMIN)
        sites = numbers.occupier_sites(session, admin, admin.occupier_id)
        assert [s.name for s in sites] == ["London - King's Cross", "London - Old Street"]
        listed = numbers.list_numbers(session, admin, admin.occupier_id, sites[1].id)
        shown = {n.extension: numbers.assigned_to(n) for n in listed}
        assert shown["100"].text == "Main Number"
        assert shown["201"].kind == "user" and shown["201"].text == "Alice Archer"
        assert shown["203"].kind == "named" and shown["203"].text == "Meeting Room 1"
        assert shown["204"].text == "Unassigned"


def test_r8_search_matches_number_or_assigned_to(demo_factory):
    with transaction(demo_factory) as session:
        admin = actor(session, ACME_ADMIN)
        site = number(session, FREE).site_id
        assert [n.extension for n in numbers.list_numbers(session, admin, admin.occupier_id, site, "alice")] == ["201"]
        assert [n.extension for n in numbers.list_numbers(session, admin, admin.occupier_id, site, "7946 0203")] == [
            "203"
        ]
        assert [n.extension for n in numbers.list_numbers(session, admin, admin.occupier_id, site, "room")] == ["203"]


def test_r12_assign_shows_name_and_one_number_per_user(demo_factory):
    with transaction(demo_factory) as session:
        admin = actor(session, ACME_ADMIN)
        dave = user(session, "dave@acme.example")
        n = assignment.assign_user(session, admin, number(session, FREE).id, dave.id)
        assert numbers.assigned_to(n).text == "Dave Dawson"
        assert n.status is NumberStatus.PENDING  # R4: until the controller applies it
        _settle(session, n)
        with pytest.raises(Conflict):
            assignment.assign_user(session, admin, number(session, "+442079460302").id, dave.id)
        assignment.assign_user(session, admin, n.id, None)
        assert numbers.assigned_to(n).text == "Unassigned"


def test_r13_display_name_overrides_user_name_keeps_assignment(demo_factory):
    with transaction(demo_factory) as session:
        n = assignment.set_display_name(
            session, actor(session, ACME_ADMIN), number(session, "+442079460201").id, 'Al "the boss"', "Sales; ${X}"
        )
        assert numbers.assigned_to(n).text == 'Al "the boss" Sales; ${X}'
        assert n.user.email == "alice@acme.example"


def test_r13_display_name_with_a_line_break_is_refused(demo_factory):
    with transaction(demo_factory) as session, pytest.raises(InvalidInput):
        assignment.set_display_name(session, actor(session, ACME_ADMIN), number(session, FREE).id, "Evil\nContext", "x")


def test_r15_handset_login_one_number_per_handset(demo_factory):
    with transaction(demo_factory) as session:
        admin = actor(session, ACME_ADMIN)
        with pytest.raises(Conflict) as taken:
            handsets.log_in_handset(session, admin, number(session, FREE).id, "desk-os-1")
        assert "already logged in" in taken.value.message
        n = handsets.log_in_handset(session, admin, number(session, FREE).id, "desk-os-5")
        assert n.handset.phone_id == "desk-os-5"
        _settle(session, n)
        with pytest.raises(NotFound):  # a King's Cross handset is not at this number's site
            handsets.log_in_handset(session, admin, number(session, FREE).id, "desk-kx-2")
        handsets.log_out_handset(session, admin, n.id)
        assert n.handset is None


def test_r14_reset_pin_restores_default_and_unlocks(demo_factory):
    with transaction(demo_factory) as session:
        n = number(session, FREE)
        system = Actor.system("test")
        for _ in range(3):
            pins.check_pin(session, system, n, "000000")
        assert n.pin_locked
        assert pins.check_pin(session, system, n, n.default_pin) is PinCheck.LOCKED
        pins.reset_pin(session, actor(session, ACME_ADMIN), n.id)
        assert not n.pin_locked and n.failed_pin_count == 0
        assert pins.check_pin(session, system, n, n.default_pin) is PinCheck.MUST_CHANGE


def test_r17_custom_pin_is_only_a_hash_and_r19_policy(demo_factory):
    with transaction(demo_factory) as session:
        n = number(session, FREE)
        system = Actor.system("test")
        for weak in ("1111", "1234", "9876", n.default_pin, n.extension + "4"[:0] or "204", "12a4", "123"):
            with pytest.raises(RuleBroken) as refused:
                pins.set_custom_pin(session, system, n, weak)
            assert refused.value.rule == "R19"
        pins.set_custom_pin(session, system, n, "480915")
        assert "480915" not in n.custom_pin_hash
        assert pins.check_pin(session, system, n, "480915") is PinCheck.OK
        assert pins.check_pin(session, system, n, n.default_pin) is PinCheck.WRONG


def test_r18_three_wrong_pins_lock(demo_factory):
    with transaction(demo_factory) as session:
        n = number(session, FREE)
        system = Actor.system("test")
        assert pins.check_pin(session, system, n, "000001") is PinCheck.WRONG
        assert pins.check_pin(session, system, n, "000002") is PinCheck.WRONG
        assert pins.check_pin(session, system, n, "000003") is PinCheck.LOCKED
        attempts = session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "pin.attempt", AuditEntry.number_id == n.id)
        )
        assert attempts == 3


def test_r21_busy_forward_excludes_call_waiting(demo_factory):
    with transaction(demo_factory) as session:
        admin = actor(session, ACME_ADMIN)
        n = number(session, FREE)
        before = session.scalar(select(func.count()).select_from(OutboxEntry))
        with pytest.raises(RuleBroken) as refused:
            features.update_features(session, admin, n.id, {"forward_busy": "+447700900123"})
        assert refused.value.rule == "R21"
        assert session.scalar(select(func.count()).select_from(OutboxEntry)) == before
        features.update_features(session, admin, n.id, {"forward_busy": "+447700900123", "call_waiting": "off"})
        assert n.features.forward_busy == "+447700900123"


def test_r22_no_forwarding_with_authorization_code(demo_factory):
    with transaction(demo_factory) as session:
        n = number(session, FREE)
        with pytest.raises(Forbidden):
            features.update_features(session, actor(session, ACME_ADMIN), n.id, {"authorization_code": "4821"})
        features.update_features(session, Actor.system(), n.id, {"authorization_code": "4821"})
        assert "4821" not in n.features.authorization_code_hash
        with pytest.raises(RuleBroken) as refused:
            features.update_features(session, actor(session, ACME_ADMIN), n.id, {"forward_always": "202"})
        assert refused.value.rule == "R22"


def test_r28_every_refused_feature_value_is_reported_at_once_and_nothing_saved(demo_factory):
    with transaction(demo_factory) as session:
        admin = actor(session, ACME_ADMIN)
        n = number(session, FREE)
        before = session.scalar(select(func.count()).select_from(OutboxEntry))
        with pytest.raises(FieldErrors) as refused:
            features.update_features(
                session,
                admin,
                n.id,
                {
                    "forward_always": "abc",
                    "no_answer_seconds": "500",
                    "voicemail_email": "not-an-email",
                    "dnd": "maybe",
                    "call_waiting": "off",
                    "colour": "red",
                },
            )
        errors = refused.value.errors
        assert set(errors) == {"forward_always", "no_answer_seconds", "voicemail_email", "dnd", "colour"}
        assert errors["no_answer_seconds"] == "No answer after (seconds): use 5 to 120 seconds"  # the page's words
        assert errors["forward_always"].startswith("Forward always: 'abc' is neither")
        assert refused.value.message == errors["forward_always"]  # the first, for edges that show one
        assert (n.features.call_waiting, n.features.no_answer_seconds) == (True, 18)
        assert session.scalar(select(func.count()).select_from(OutboxEntry)) == before


def test_r20_forward_targets_and_loops(demo_factory):
    with transaction(demo_factory) as session:
        admin = actor(session, ACME_ADMIN)
        n = number(session, FREE)
        for bad in ("204", FREE, "999", "abc", "+44", "209"):
            with pytest.raises((InvalidInput, RuleBroken)):
                features.update_features(session, admin, n.id, {"forward_always": bad})
        features.update_features(session, admin, n.id, {"forward_always": "202"})
        bob = number(session, "+442079460202")
        with pytest.raises(RuleBroken) as loop:
            features.update_features(session, admin, bob.id, {"forward_always": "204"})
        assert "loop" in loop.value.message
        with pytest.raises(RuleBroken):
            features.update_features(session, admin, bob.id, {"forward_always": FREE})


def test_r27_cli_must_be_an_active_number_of_the_occupier_at_the_site(demo_factory):
    with transaction(demo_factory) as session:
        admin = actor(session, ACME_ADMIN)
        n = number(session, FREE)
        features.update_features(session, admin, n.id, {"cli": "+442079460100"})  # the main number
        assert features.show_features(session, admin, n.id)["cli"] == "+442079460100"
        for bad in ("+442079460301", "+442079460501", "+442079460205"):  # other site / occupier / reserved
            with pytest.raises(RuleBroken) as refused:
                features.update_features(session, admin, n.id, {"cli": bad})
            assert refused.value.rule == "R27"


def test_r30_a_user_changes_own_features_only(demo_factory):
    with transaction(demo_factory) as session:
        alice = actor(session, "alice@acme.example")
        features.update_features(session, alice, number(session, "+442079460201").id, {"dnd": "on"})
        with pytest.raises(NotFound):
            features.update_features(session, alice, number(session, FREE).id, {"dnd": "on"})
        with pytest.raises(Forbidden):
            assignment.assign_user(session, alice, number(session, "+442079460201").id, None)


def test_unknown_feature_key_is_refused(demo_factory):
    with transaction(demo_factory) as session, pytest.raises(InvalidInput):
        features.update_features(session, Actor.system(), number(session, FREE).id, {"colour": "red"})


def test_r31_operator_allocates_and_activates(demo_factory):
    with transaction(demo_factory) as session:
        acme = number(session, FREE).occupier
        site = number(session, FREE).site
        system = Actor.system()
        n = operator.allocate_number(session, system, acme.id, site.id, "+44 20 7946 0299", "299")
        assert n.status is NumberStatus.RESERVED and n.e164 == "+442079460299"
        operator.activate_number(session, system, n.id)
        assert n.status is NumberStatus.PENDING
        with pytest.raises(Forbidden):
            operator.allocate_number(session, actor(session, ACME_ADMIN), acme.id, site.id, "+442079460298", "298")
        for e164, ext in (
            ("020 7946 0297", "297"),
            ("+442079460297", "2a"),
            ("+442079460201", "297"),
            ("+442079460297", "201"),
            ("+442079460297", "999"),
        ):
            with pytest.raises((InvalidInput, Conflict)):
                operator.allocate_number(session, system, acme.id, site.id, e164, ext)


def test_r31_allocating_names_every_wrong_field_at_once_and_saves_nothing(demo_factory):
    with transaction(demo_factory) as session:
        acme, system = number(session, FREE).occupier, Actor.system()
        manchester = number(session, "+441614960100").site
        with pytest.raises(FieldErrors) as refused:
            operator.allocate_number(session, system, acme.id, manchester.id, "12", "2a", "12")
        assert list(refused.value.errors) == ["site", "number", "extension", "default_pin"]
        assert refused.value.errors["extension"] == "Extension: '2a' is not an extension: use 2 to 8 digits"
        assert refused.value.field == "site" and refused.value.message == refused.value.errors["site"]


def test_r1_adding_a_user_names_every_wrong_field_at_once(demo_factory):
    with transaction(demo_factory) as session:
        acme = number(session, FREE).occupier
        with pytest.raises(FieldErrors) as refused:
            operator.create_user(
                session, Actor.system(), acme.operator, acme, "", " ", "not-an-email", "short", Role.OPERATOR_ADMIN
            )
        assert list(refused.value.errors) == ["first_name", "last_name", "email", "password", "role"]
