"""R14, R16-R19 on real calls: the PIN is checked by pbx against the store, keyed as RFC 4733 DTMF."""

from __future__ import annotations

from pbx.services.passwords import verify_secret
from tests.calls.store_checks import audit, number_row, opened_boxes, reset_pin_as_admin, set_custom_pin

NEW_PIN = "482916"
HOLD_S = 4  # the caller hangs up: in the opened box, or while pbx waits for more digits
ENDED_BY_PBX_S = 12  # longer than anything pbx says before it hangs up: no BYEs crossing


def test_r17_first_use_with_the_default_pin_forces_a_new_custom_pin(world, asterisk, stasis_app):
    alice = world.number(extension="201", occupier="Acme Ltd")
    mark = asterisk.log_mark()

    result = world.call_from_handset(
        alice["handset"], "*97", dtmf=f"{alice['default_pin']}#{NEW_PIN}#{NEW_PIN}#", hold=HOLD_S
    )

    assert result.ok, result
    row = number_row(world, alice["number"])
    assert row.custom_pin_hash and NEW_PIN not in row.custom_pin_hash  # R17: only a hash is stored
    assert verify_secret(row.custom_pin_hash, NEW_PIN)
    assert opened_boxes(asterisk, mark) == [(alice["handset"], alice["id"])]
    assert [e["result"] for e in audit(world, "pin.attempt", alice["number"])] == ["must_change"]
    assert len(audit(world, "pin.set_custom", alice["number"])) == 1


def test_r17_once_a_custom_pin_is_chosen_the_default_pin_opens_nothing(world, asterisk, stasis_app):
    alice = world.number(extension="201", occupier="Acme Ltd")
    set_custom_pin(world, alice["number"], NEW_PIN)
    mark = asterisk.log_mark()

    assert world.call_from_handset(alice["handset"], "*97", dtmf=f"{alice['default_pin']}#", hold=HOLD_S).ok
    assert opened_boxes(asterisk, mark) == []
    assert world.call_from_handset(alice["handset"], "*97", dtmf=f"{NEW_PIN}#", hold=HOLD_S).ok

    assert opened_boxes(asterisk, mark) == [(alice["handset"], alice["id"])]
    assert [e["result"] for e in audit(world, "pin.attempt", alice["number"])] == ["wrong", "ok"]
    assert number_row(world, alice["number"]).failed_pin_count == 0  # a right PIN ends the run


def test_r19_a_weak_or_mistyped_new_pin_is_refused_and_asked_again(world, asterisk, stasis_app):
    bob = world.number(extension="202", occupier="Acme Ltd")
    keyed = f"{bob['default_pin']}#1234#1234#{NEW_PIN}#{NEW_PIN[::-1]}#{NEW_PIN}#{NEW_PIN}#"
    mark = asterisk.log_mark()

    assert world.call_from_handset(bob["handset"], "*97", dtmf=keyed, hold=HOLD_S).ok

    row = number_row(world, bob["number"])
    assert verify_secret(row.custom_pin_hash, NEW_PIN)  # 1234 (trivial) and the mismatch were refused
    assert not verify_secret(row.custom_pin_hash, "1234")
    assert opened_boxes(asterisk, mark) == [(bob["handset"], bob["id"])]


def test_r18_three_wrong_pins_lock_across_calls_until_an_admin_resets_it(world, asterisk, stasis_app):
    bob = world.number(extension="202", occupier="Acme Ltd")
    set_custom_pin(world, bob["number"], NEW_PIN)
    mark = asterisk.log_mark()

    # Two wrong in one call, one more in the next: three in a row lock it (R18).
    assert world.call_from_handset(bob["handset"], "*97", dtmf="111111#222222#", hold=1).ok
    assert number_row(world, bob["number"]).pin_locked is False
    assert world.call_from_handset(bob["handset"], "*97", dtmf="333333#", hold=ENDED_BY_PBX_S).ok
    row = number_row(world, bob["number"])
    assert row.pin_locked is True and row.failed_pin_count == 3

    # A new call, the right PIN: still locked, nothing opens.
    assert world.call_from_handset(bob["handset"], "*97", dtmf=f"{NEW_PIN}#", hold=ENDED_BY_PBX_S).ok
    assert opened_boxes(asterisk, mark) == []
    assert [e["result"] for e in audit(world, "pin.attempt", bob["number"])] == ["wrong", "wrong", "locked", "locked"]

    # R14: Reset PIN restores the default PIN and unlocks; first use asks for a new custom PIN again.
    reset_pin_as_admin(world, bob["number"])
    row = number_row(world, bob["number"])
    assert (row.pin_locked, row.failed_pin_count, row.custom_pin_hash) == (False, 0, None)
    assert world.call_from_handset(
        bob["handset"], "*97", dtmf=f"{bob['default_pin']}#{NEW_PIN}#{NEW_PIN}#", hold=HOLD_S
    ).ok
    assert opened_boxes(asterisk, mark) == [(bob["handset"], bob["id"])]


def test_r18_a_locked_pin_does_not_sign_in_to_a_handset_either(world, asterisk, stasis_app):
    free = world.number(extension="204", occupier="Acme Ltd")
    set_custom_pin(world, free["number"], NEW_PIN)
    desk = next(
        h["phone_id"] for h in world.data["handsets"] if h["number"] is None and h["site"] == "London - Old Street"
    )
    assert world.call_from_handset(desk, "*11", dtmf="204#111111#222222#333333#", hold=ENDED_BY_PBX_S).ok
    assert number_row(world, free["number"]).pin_locked is True

    assert world.call_from_handset(desk, "*11", dtmf=f"204#{NEW_PIN}#", hold=ENDED_BY_PBX_S).ok

    assert number_row(world, free["number"]).handset is None


def test_r40_wrong_pins_keyed_in_calls_at_the_same_moment_all_count(world, asterisk, stasis_app):
    free = world.number(extension="204", occupier="Acme Ltd")
    set_custom_pin(world, free["number"], NEW_PIN)
    # Five handsets at Old Street key a wrong PIN for 204 at once: its colleagues' voicemail access
    # (*98, the occupier's reach) and the free desks' hot desk (*11, the site's reach).
    calls = [(desk, "*98") for desk in ("desk-os-1", "desk-os-2", "desk-os-3")]
    calls += [(desk, "*11") for desk in ("desk-os-5", "desk-os-6")]

    started = [
        world.start_call_from_handset(desk, code, dtmf=f"204#{400000 + i}#", hold=HOLD_S)
        for i, (desk, code) in enumerate(calls)
    ]
    results = [call.wait(ENDED_BY_PBX_S * 3) for call in started]

    assert all(result.ok for result in results), results
    row = number_row(world, free["number"])
    assert (row.failed_pin_count, row.pin_locked) == (3, True)
    assert sorted(e["result"] for e in audit(world, "pin.attempt", free["number"])) == [
        "locked",
        "locked",
        "locked",
        "wrong",
        "wrong",
    ]
