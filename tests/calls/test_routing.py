"""R32 and the first real calls: extensions, DIDs, main numbers, the trunk, emergencies."""

from __future__ import annotations

from tests.world import OUTSIDE_CALLER


def test_r32_extension_rings_the_handset_its_number_is_logged_in_to(world):
    alice = world.number(extension="201", occupier="Acme Ltd")
    bob = world.number(extension="202", occupier="Acme Ltd")
    with world.handset_of(alice["handset"]) as alice_desk:
        result = world.call_from_handset(bob["handset"], "201")
        assert result.ok, result
        alice_desk.wait_invites(1, 10)
    invite = alice_desk.invites[0]
    assert invite.from_.user == "202"
    assert invite.from_.display == "Bob Baker"


def test_r3_extensions_repeat_across_occupiers_and_stay_apart(world):
    hank = world.number(extension="201", occupier="Globex Corporation")
    alice = world.number(extension="201", occupier="Acme Ltd")
    with world.handset_of(alice["handset"]) as alice_desk, world.handset_of(hank["handset"]) as hank_desk:
        globex_202 = world.number(extension="202", occupier="Globex Corporation")
        world.set_features(globex_202["number"], voicemail="off")
        # Globex's 202 has no handset: unavailable, even though Acme's 202 (Bob) is registered elsewhere
        assert world.call_from_handset(hank["handset"], "202", expect=480).status == 480
        result = world.call_from_handset(world.number(extension="202", occupier="Acme Ltd")["handset"], "201")
        assert result.ok, result
        alice_desk.wait_invites(1, 10)
        assert hank_desk.invites == []


def test_r32_trunk_call_to_e164_rings_the_number(world):
    carol = world.number(extension="301", occupier="Acme Ltd")
    with world.handset_of(carol["handset"]) as desk:
        result = world.call_from_trunk(carol["number"])
        assert result.ok, result
        desk.wait_invites(1, 10)
    assert desk.invites[0].from_.user == OUTSIDE_CALLER


def test_r32_trunk_call_without_plus_reaches_the_number_too(world):
    carol = world.number(extension="301", occupier="Acme Ltd")
    with world.handset_of(carol["handset"]) as desk:
        assert world.call_from_trunk(carol["number"].lstrip("+")).ok
        desk.wait_invites(1, 10)


def test_r32_main_number_rings_its_destination(world):
    main = world.number(main=True, site="London - Old Street", occupier="Acme Ltd")
    target = world.number(extension=main["main_destination"], occupier="Acme Ltd")
    with world.handset_of(target["handset"]) as desk:
        assert world.call_from_trunk(main["number"]).ok
        desk.wait_invites(1, 10)


def test_unknown_number_is_rejected(world):
    assert world.call_from_trunk("+442079469999", expect=404).status == 404
    alice = world.number(extension="201", occupier="Acme Ltd")
    assert world.call_from_handset(alice["handset"], "299", expect=404).status == 404


def test_r6_reserved_number_is_not_reachable(world):
    reserved = world.number(status="reserved", extension="205", occupier="Acme Ltd")
    assert world.call_from_trunk(reserved["number"], expect=404).status == 404


def test_number_logged_in_to_no_handset_fails_clearly(world):
    free = world.number(extension="204", occupier="Acme Ltd")
    assert free["handset"] is None
    world.set_features(free["number"], voicemail="off")
    result = world.call_from_trunk(free["number"], expect=480)
    assert result.status == 480, result


def test_logged_in_handset_not_registered_fails_clearly(world):
    bob = world.number(extension="202", occupier="Acme Ltd")
    world.set_features(bob["number"], voicemail="off")
    result = world.call_from_trunk(bob["number"], expect=480)
    assert result.status == 480, result


def test_external_call_goes_out_through_the_trunk_with_the_numbers_identity(world):
    alice = world.number(extension="201", occupier="Acme Ltd")
    with world.outside_world(calls=2) as outside:
        assert world.call_from_handset(alice["handset"], "+447700900456").ok
        assert world.call_from_handset(alice["handset"], "07700900457").ok  # national dialling at a GB site
        outside.wait_invites(2, 10)
    assert [i.request_user for i in outside.invites] == ["+447700900456", "+447700900457"]
    assert all(i.from_.user == alice["number"] for i in outside.invites)


def test_handset_with_no_number_cannot_call_but_emergency_goes_out(world):
    free_desk = next(h for h in world.data["handsets"] if h["number"] is None and h["site"] == "London - Old Street")
    assert world.call_from_handset(free_desk["phone_id"], "201", expect=403).status == 403
    with world.outside_world() as outside:
        assert world.call_from_handset(free_desk["phone_id"], "999").ok
        outside.wait_invites(1, 10)
    assert outside.invites[0].request_user == "999"


def test_r43_a_call_between_occupiers_shows_the_callers_public_number_only(world):
    """Globex's 201 (Hank Hill) calls Acme's 201 by its public number: Acme's handset must not
    see "Hank Hill" <201>, which is Acme's own 201 (someone else): the Globex number, no name."""
    hank = world.number(extension="201", occupier="Globex Corporation")
    alice = world.number(extension="201", occupier="Acme Ltd")
    with world.handset_of(alice["handset"]) as alice_desk:
        assert world.call_from_handset(hank["handset"], alice["number"]).ok  # +44...
        assert world.call_from_handset(hank["handset"], alice["number"].lstrip("+")).ok  # a DID without '+'
        alice_desk.wait_invites(2, 10)
    for invite in alice_desk.invites:
        assert invite.from_.user == hank["number"], invite.from_
        assert not invite.from_.display, invite.from_
        assert invite.pai is None or invite.pai.user == hank["number"]


def test_r43_inside_one_occupier_the_caller_stays_extension_and_label(world):
    alice = world.number(extension="201", occupier="Acme Ltd")
    bob = world.number(extension="202", occupier="Acme Ltd")
    with world.handset_of(alice["handset"]) as alice_desk:
        assert world.call_from_handset(bob["handset"], alice["number"]).ok  # by its public number, too
        alice_desk.wait_invites(1, 10)
    assert (alice_desk.invites[0].from_.user, alice_desk.invites[0].from_.display) == ("202", "Bob Baker")


def test_r43_r24_a_hidden_caller_crossing_occupiers_stays_anonymous(world):
    hank = world.number(extension="201", occupier="Globex Corporation")
    alice = world.number(extension="201", occupier="Acme Ltd")
    world.set_features(hank["number"], hide_caller_id="on")
    with world.handset_of(alice["handset"]) as alice_desk:
        assert world.call_from_handset(hank["handset"], alice["number"]).ok
        alice_desk.wait_invites(1, 10)
    invite = alice_desk.invites[0]
    assert invite.from_.user == "anonymous" and invite.from_.display in (None, "Anonymous"), invite.from_
    assert invite.pai is None
    assert "201" not in invite.message.header("from") and "Hank" not in str(invite.message)
