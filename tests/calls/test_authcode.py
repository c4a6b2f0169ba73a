"""R22 on real calls: external calls from a number with an authorization code need the code."""

from __future__ import annotations

from pbx.services.code_lock import unlock_code
from pbx.store import transaction
from tests.calls.store_checks import audit
from tests.store.helpers import actor

CODE = "4826"
DESTINATION = "+447700900456"


def with_code(world) -> dict:
    alice = world.number(extension="201", occupier="Acme Ltd")
    world.set_features(alice["number"], authorization_code=CODE)
    return alice


def reset_code_as_admin(world, number: str) -> None:
    """R40, as the occupier admin's reset (API or `pbx features reset-code`) does it."""
    with transaction(world.factory) as session:
        unlock_code(session, actor(session, "admin@acme.example"), world.number_id(number))


def test_r22_the_right_code_lets_the_call_out_with_the_numbers_identity(world, stasis_app):
    alice = with_code(world)
    with world.outside_world() as outside:
        # The caller hangs up first (the outside world holds 3 s after answering).
        assert world.call_from_handset(alice["handset"], DESTINATION, dtmf=f"{CODE}#", hold=1).ok
        (invite,) = outside.wait_invites(1, 10)

    assert invite.request_user == DESTINATION
    assert invite.from_.user == alice["number"]
    assert [(e["result"], e["destination"]) for e in audit(world, "authcode.attempt", alice["number"])] == [
        ("ok", DESTINATION)
    ]


def test_r22_a_wrong_code_ends_the_call_and_nothing_goes_out(world, stasis_app):
    alice = with_code(world)
    with world.outside_world() as outside:
        result = world.call_from_handset(alice["handset"], DESTINATION, dtmf="9999#", hold=12)
        assert result.ok, result
        assert outside.wait_invites(1, 1) == []

    assert any(m.direction == "received" and m.method == "BYE" for m in result.messages), "pbx hangs up"
    assert [e["result"] for e in audit(world, "authcode.attempt", alice["number"])] == ["wrong"]
    assert all(CODE not in str(e) and "9999" not in str(e) for e in audit(world, "authcode.attempt"))


def test_r22_a_missing_code_ends_the_call_too(world, stasis_app):
    alice = with_code(world)
    with world.outside_world() as outside:
        assert world.call_from_handset(alice["handset"], DESTINATION, dtmf="#", hold=12).ok
        assert outside.wait_invites(1, 1) == []

    assert [e["result"] for e in audit(world, "authcode.attempt", alice["number"])] == ["missing"]


def test_r22_national_dialling_is_external_too(world, stasis_app):
    alice = with_code(world)
    with world.outside_world() as outside:
        assert world.call_from_handset(alice["handset"], "07700900456", dtmf=f"{CODE}#", hold=1).ok
        (invite,) = outside.wait_invites(1, 10)
    assert invite.request_user == DESTINATION


def test_r22_emergency_numbers_are_never_asked_for_the_code(world, stasis_app):
    alice = with_code(world)
    with world.outside_world(calls=3) as outside:
        for emergency in ("999", "112", "911"):
            assert world.call_from_handset(alice["handset"], emergency, hold=1).ok
        invites = outside.wait_invites(3, 10)

    assert [i.request_user for i in invites] == ["999", "112", "911"]
    assert audit(world, "authcode.attempt") == []


def test_r22_internal_calls_need_no_code(world, stasis_app):
    alice = with_code(world)
    bob = world.number(extension="202", occupier="Acme Ltd")
    with world.handset_of(bob["handset"]) as bob_phone:
        assert world.call_from_handset(alice["handset"], "202", hold=1).ok
        assert len(bob_phone.wait_invites(1, 10)) == 1
    assert audit(world, "authcode.attempt") == []


def test_r40_three_wrong_codes_lock_it_until_an_admin_resets_it(world, stasis_app):
    alice = with_code(world)
    with world.outside_world() as outside:
        for wrong in ("1111#", "2222#", "3333#", f"{CODE}#"):  # three wrong in a row, then the right one
            assert world.call_from_handset(alice["handset"], DESTINATION, dtmf=wrong, hold=12).ok
        assert outside.wait_invites(1, 1) == []

    assert [e["result"] for e in audit(world, "authcode.attempt", alice["number"])] == [
        "wrong",
        "wrong",
        "locked",
        "locked",
    ]
    reset_code_as_admin(world, alice["number"])
    with world.outside_world() as outside:
        assert world.call_from_handset(alice["handset"], DESTINATION, dtmf=f"{CODE}#", hold=1).ok
        assert len(outside.wait_invites(1, 10)) == 1
