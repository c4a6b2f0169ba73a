"""R42 on real calls: the voice portal, reached from the trunk by its number or from a handset by
*500; a number (or the caller's own occupier's extension) and its PIN, then the menu by DTMF:
1 voicemail, 2 forward always, 3 DND, 4 greeting, 5 new PIN. Every change goes through the web
UI's services; a refused one is announced by its rule (the prompt shows in Asterisk's log)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from pbx.asterisk.local import asterisk_folders
from pbx.services import portal_number
from pbx.services.actor import Actor
from pbx.services.passwords import verify_secret
from pbx.store import transaction
from pbx.store.models import Site
from tests.calls.store_checks import audit, number_row, opened_boxes, set_custom_pin

pytestmark = pytest.mark.asterisk
PORTAL = "+442079460999"
ALICE_NATIONAL = "02079460201"  # +442079460201, keyed the national way at Old Street
PIN = "482916"
NEW_PIN = "739258"
HOLD_S = 5  # we hang up while the menu waits for the next key
ENDED_BY_PBX_S = 12  # longer than anything pbx says before it hangs up: no BYEs crossing
PREMIUM = "00449098790000"  # R39: premium rate, not allowed for Acme by default


def acme(world, extension: str) -> dict:
    return world.number(extension=extension, occupier="Acme Ltd")


def portal_at_old_street(world) -> int:
    """The operator gives Old Street its portal number (as `pbx site portal set` does)."""
    with transaction(world.factory) as session:
        site_id = session.scalar(select(Site.id).where(Site.name == "London - Old Street"))
        portal_number.set_portal_number(session, Actor.system("test"), site_id, PORTAL)
    world.apply()
    return int(site_id)


def played(world, mark: int, *sounds: str) -> bool:
    time.sleep(0.5)  # Asterisk's logger writes asynchronously
    log = world.asterisk.log_since(mark)
    return all(f"Playing '{sound}." in log for sound in sounds)


def portal_call(world, dtmf: str, hold: float = HOLD_S):
    result = world.call_from_trunk(PORTAL, dtmf=dtmf, hold=hold)
    assert result.ok, result
    return result


def test_r42_forward_always_set_at_the_portal_is_followed_by_the_next_call(world, stasis_app):
    alice, bob = acme(world, "201"), acme(world, "202")
    site_id = portal_at_old_street(world)

    # R17: the default PIN opens once and asks for a custom PIN (twice), then the menu: 2, target, #.
    portal_call(world, f"{ALICE_NATIONAL}#{alice['default_pin']}#{NEW_PIN}#{NEW_PIN}#2202#")

    row = number_row(world, alice["number"])
    assert row.features.forward_always == "202"
    assert verify_secret(row.custom_pin_hash, NEW_PIN)
    (change,) = audit(world, "number.features", alice["number"])
    assert change["actor"] == f"voice portal (site {site_id})" and change["changed"] == ["forward_always"]
    world.apply()
    with world.handset_of(alice["handset"]) as alice_desk, world.handset_of(bob["handset"]) as bob_desk:
        assert world.call_from_trunk(alice["number"]).ok
        bob_desk.wait_invites(1, 10)
    assert alice_desk.invites == []

    # 2 again turns it off.
    portal_call(world, f"{ALICE_NATIONAL}#{NEW_PIN}#2")
    assert number_row(world, alice["number"]).features.forward_always is None


def test_r42_dnd_on_at_the_portal_sends_the_next_call_to_voicemail(world, stasis_app):
    alice = acme(world, "201")
    set_custom_pin(world, alice["number"], PIN)
    portal_at_old_street(world)

    portal_call(world, f"{ALICE_NATIONAL}#{PIN}#3")

    assert number_row(world, alice["number"]).features.dnd is True
    world.apply()
    mark = world.asterisk.log_mark()
    with world.handset_of(alice["handset"]) as desk:
        assert world.call_from_trunk(alice["number"], hold=1).ok  # the mailbox answers
    assert desk.invites == []
    time.sleep(0.2)
    assert world.asterisk.log_since(mark).count(f'"n{alice["id"]}@pbx,b")') == 1


def test_r42_r18_three_wrong_pins_at_the_portal_lock_and_it_says_so(world, stasis_app):
    alice = acme(world, "201")
    set_custom_pin(world, alice["number"], PIN)
    portal_at_old_street(world)
    mark = world.asterisk.log_mark()

    portal_call(world, f"{ALICE_NATIONAL}#111111#222222#333333#", hold=ENDED_BY_PBX_S)

    row = number_row(world, alice["number"])
    assert (row.pin_locked, row.failed_pin_count) == (True, 3)
    assert played(world, mark, "sorry-youre-having-problems")
    assert [e["result"] for e in audit(world, "pin.attempt", alice["number"])] == ["wrong", "wrong", "locked"]
    # Locked: the right PIN opens nothing now, here or anywhere (R18).
    portal_call(world, f"{ALICE_NATIONAL}#{PIN}#3", hold=ENDED_BY_PBX_S)
    assert number_row(world, alice["number"]).features.dnd is False


def test_r42_r3_a_handset_keys_only_its_own_occupiers_extensions(world, stasis_app):
    hank = world.number(extension="201", occupier="Globex Corporation")
    free_acme = acme(world, "204")  # Globex has no 204
    set_custom_pin(world, hank["number"], PIN)
    mark = world.asterisk.log_mark()

    # *500 at Hank's desk: Acme's 204 is no number here; then his own 201 and PIN, 3 (DND).
    result = world.call_from_handset(hank["handset"], "*500", dtmf=f"204#{free_acme['default_pin']}#201#{PIN}#3")
    assert result.ok, result

    assert played(world, mark, "pbx-invalid")
    assert audit(world, "pin.attempt", free_acme["number"]) == []
    assert number_row(world, free_acme["number"]).features.dnd is False
    assert number_row(world, hank["number"]).features.dnd is True


@pytest.mark.parametrize(
    "rule, arrange, sounds",
    [
        ("R39", None, ("cannot-complete-as-dialed",)),
        ("R22", {"authorization_code": "7391"}, ("call-forwarding", "disabled")),
    ],
)
def test_r42_a_refused_change_is_announced_by_its_rule_and_nothing_changes(world, stasis_app, rule, arrange, sounds):
    alice = acme(world, "201")
    set_custom_pin(world, alice["number"], PIN)
    if arrange:
        world.set_features(alice["number"], **arrange)  # the operator's authorization code (R22)
    portal_at_old_street(world)
    mark = world.asterisk.log_mark()

    portal_call(world, f"{ALICE_NATIONAL}#{PIN}#2{PREMIUM if rule == 'R39' else '202'}#")

    assert number_row(world, alice["number"]).features.forward_always is None
    assert played(world, mark, *sounds), rule
    assert audit(world, "number.features", alice["number"])[len([arrange] if arrange else []) :] == []


def test_r42_a_pin_changed_at_the_portal_opens_the_box_everywhere(world, asterisk, stasis_app):
    alice = acme(world, "201")
    set_custom_pin(world, alice["number"], PIN)
    portal_at_old_street(world)

    portal_call(world, f"{ALICE_NATIONAL}#{PIN}#5{NEW_PIN}#{NEW_PIN}#")

    row = number_row(world, alice["number"])
    assert verify_secret(row.custom_pin_hash, NEW_PIN) and not verify_secret(row.custom_pin_hash, PIN)
    mark = asterisk.log_mark()
    assert world.call_from_handset(alice["handset"], "*97", dtmf=f"{NEW_PIN}#", hold=2).ok
    assert opened_boxes(asterisk, mark) == [(alice["handset"], alice["id"])]


def test_r42_voicemail_and_greeting_from_the_portal(world, asterisk, stasis_app):
    alice = acme(world, "201")
    set_custom_pin(world, alice["number"], PIN)
    portal_at_old_street(world)
    mark = asterisk.log_mark()

    portal_call(world, f"{ALICE_NATIONAL}#{PIN}#1", hold=2)
    assert opened_boxes(asterisk, mark) == [("", alice["id"])]

    greeting = asterisk_folders(world.settings).voicemail / f"n{alice['id']}" / "unavail.wav"
    portal_call(world, f"{ALICE_NATIONAL}#{PIN}#4", hold=6)
    time.sleep(0.5)
    assert greeting.exists()
    assert [e["way"] for e in audit(world, "voicemail.greeting", alice["number"])] == ["record"]


def test_r42_a_handset_reaches_the_portal_by_its_number_too(world, stasis_app):
    bob = acme(world, "202")
    set_custom_pin(world, bob["number"], PIN)
    portal_at_old_street(world)

    # Dialled the national way from Bob's desk; his own extension is enough there.
    result = world.call_from_handset(bob["handset"], "02079460999", dtmf=f"202#{PIN}#3")
    assert result.ok, result

    assert number_row(world, bob["number"]).features.dnd is True
    (change,) = audit(world, "number.features", bob["number"])
    assert change["actor"].startswith("voice portal (site ") and bob["handset"] in change["actor"]


def test_r42_a_cleared_or_moved_portal_number_stops_answering_without_a_reload(world, stasis_app):
    old_street = portal_at_old_street(world)
    with transaction(world.factory) as session:
        portal_number.set_portal_number(session, Actor.system("test"), old_street, "+442079460998")
    world.apply()
    assert world.call_from_trunk(PORTAL, expect=404).status == 404
    assert world.call_from_trunk("+442079460998", hold=1).ok

    with transaction(world.factory) as session:
        portal_number.clear_portal_number(session, Actor.system("test"), old_street)
    world.apply()
    assert world.call_from_trunk("+442079460998", expect=404).status == 404
