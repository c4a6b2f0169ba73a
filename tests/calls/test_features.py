"""R20-R27 on real calls: each feature on and off, as the caller and the far end observe it.

Every change goes through pbx.services and the controller's own code (World.set_features);
what is asserted is what arrives on the wire: who rang, which status, which headers.
"""

from __future__ import annotations

import time

import pytest

from pbx.services.errors import RuleBroken
from tests.world import OUTSIDE_CALLER

pytestmark = pytest.mark.asterisk
RING_S = 5  # the shortest ring time the service allows (default 18 s)
EXTERNAL = "+447700900456"  # a forward target / called number behind the trunk
ANOTHER_CALLER = "+447700900789"
ON_A_CALL_TIMEOUT_S = 10


def astdb(world, key: str) -> str | None:
    """What the dialplan reads for key under the pbx family right now (None: absent)."""
    return world.run_with_ami(lambda ami: ami.db_get("pbx", key))


def wait_on_a_call(world, phone_id: str) -> None:
    """Until the handset has answered: only then is the line busy (R21, R25).

    The handset is rung through the edge (PJSIP/<phone ID>@pbx-edge-1): the caller's
    channel dialling it is Up once it answered."""
    deadline = time.monotonic() + ON_A_CALL_TIMEOUT_S
    while time.monotonic() < deadline:
        for line in world.asterisk.command("core show channels concise").splitlines():
            fields = line.split("!")
            if (
                len(fields) > 6
                and fields[4] == "Up"
                and fields[5] == "Dial"
                and fields[6].startswith(f"PJSIP/{phone_id}@pbx-edge-")
            ):
                return
        time.sleep(0.05)
    raise AssertionError(f"{phone_id} never got on a call")


def voicemail_ran(world, mark: int, number_id: int, flag: str) -> int:
    """How many calls the number's mailbox took since mark (b: busy greeting, u: unavailable)."""
    time.sleep(0.2)  # Asterisk's logger writes asynchronously
    return world.asterisk.log_since(mark).count(f'"n{number_id}@pbx,{flag}")')


def _acme(world, extension):
    return world.number(extension=extension, occupier="Acme Ltd")


# -- R20 forward always ----------------------------------------------------------------------


def test_r20_forward_always_sends_the_trunk_caller_to_the_external_target(world):
    alice = _acme(world, "201")
    world.set_features(alice["number"], forward_always=EXTERNAL)
    with world.outside_world() as outside, world.handset_of(alice["handset"]) as desk:
        result = world.call_from_trunk(alice["number"])
        assert result.ok, result
        outside.wait_invites(1, 10)
    assert desk.invites == []
    invite = outside.invites[0]
    assert invite.request_user == EXTERNAL
    assert invite.from_.user == OUTSIDE_CALLER  # the caller is shown, not the forwarding number
    assert len(invite.diversion) == 1
    assert alice["number"] in invite.diversion[0] and "reason=unconditional" in invite.diversion[0]


def test_r20_forward_always_off_rings_the_handset_again(world):
    alice = _acme(world, "201")
    world.set_features(alice["number"], forward_always=EXTERNAL)
    world.set_features(alice["number"], forward_always="")
    with world.outside_world() as outside, world.handset_of(alice["handset"]) as desk:
        assert world.call_from_trunk(alice["number"]).ok
        desk.wait_invites(1, 10)
    assert outside.invites == []


def test_r20_forward_always_to_an_extension_rings_that_handset(world):
    alice, bob = _acme(world, "201"), _acme(world, "202")
    world.set_features(alice["number"], forward_always="202")
    with world.handset_of(alice["handset"]) as alice_desk, world.handset_of(bob["handset"]) as bob_desk:
        assert world.call_from_trunk(alice["number"]).ok
        bob_desk.wait_invites(1, 10)
    assert alice_desk.invites == []
    invite = bob_desk.invites[0]
    assert invite.from_.user == OUTSIDE_CALLER
    assert "reason=unconditional" in invite.diversion[0]


def test_r20_internal_call_forwarded_out_shows_the_callers_own_number(world):
    alice, bob = _acme(world, "201"), _acme(world, "202")
    world.set_features(alice["number"], forward_always=EXTERNAL)
    with world.outside_world() as outside:
        assert world.call_from_handset(bob["handset"], "201").ok
        outside.wait_invites(1, 10)
    invite = outside.invites[0]
    assert invite.from_.user == bob["number"]
    assert alice["number"] in invite.diversion[0]


# -- R20/R21 forward on busy -------------------------------------------------------------------


def test_r20_r21_busy_forward_fires_only_while_the_handset_is_on_a_call(world):
    alice = _acme(world, "201")
    world.set_features(alice["number"], call_waiting="off", forward_busy=EXTERNAL)
    with world.outside_world() as outside, world.handset_of(alice["handset"], calls=2, hold=10) as desk:
        first = world.start_call_from_trunk(alice["number"], hold=4)
        desk.wait_invites(1, 10)
        assert outside.invites == []  # idle line: the handset rang, nothing was forwarded
        wait_on_a_call(world, alice["handset"])
        second = world.call_from_trunk(alice["number"], caller=ANOTHER_CALLER)
        assert second.ok, second
        outside.wait_invites(1, 10)
        assert first.wait().ok
    assert len(desk.invites) == 1
    invite = outside.invites[0]
    assert invite.from_.user == ANOTHER_CALLER
    assert "reason=user-busy" in invite.diversion[0]


def test_r20_busy_forward_when_the_handset_answers_busy(world):
    alice = _acme(world, "201")
    world.set_features(alice["number"], call_waiting="off", forward_busy=EXTERNAL)
    with world.outside_world() as outside, world.handset_of(alice["handset"], mode="busy") as desk:
        assert world.call_from_trunk(alice["number"]).ok
        outside.wait_invites(1, 10)
    assert len(desk.invites) == 1
    assert "reason=user-busy" in outside.invites[0].diversion[0]


# -- R20 forward on no answer ------------------------------------------------------------------


def test_r20_no_answer_forward_fires_after_the_ring_time(world):
    alice = _acme(world, "201")
    world.set_features(alice["number"], forward_no_answer=EXTERNAL, no_answer_seconds=RING_S)
    with world.outside_world() as outside, world.handset_of(alice["handset"], mode="noanswer") as desk:
        call = world.start_call_from_trunk(alice["number"], timeout=30)
        desk.wait_invites(1, 10)
        rang_at = time.monotonic()
        outside.wait_invites(1, RING_S + 10)
        forwarded_after = time.monotonic() - rang_at
        assert call.wait().ok
    assert RING_S - 1 <= forwarded_after <= RING_S + 3, forwarded_after
    invite = outside.invites[0]
    assert invite.from_.user == OUTSIDE_CALLER
    assert "reason=no-answer" in invite.diversion[0]


def test_r20_no_answer_without_forward_or_voicemail_ends_after_the_ring_time(world):
    alice = _acme(world, "201")
    world.set_features(alice["number"], voicemail="off", no_answer_seconds=RING_S)
    with world.outside_world() as outside, world.handset_of(alice["handset"], mode="noanswer") as desk:
        started = time.monotonic()
        result = world.call_from_trunk(alice["number"], expect=480, timeout=30)
        took = time.monotonic() - started
        assert desk.wait_invites(1, 1)
    assert result.status == 480, result
    assert RING_S - 1 <= took <= RING_S + 5, took
    assert outside.invites == []


# -- R26 Do Not Disturb ------------------------------------------------------------------------


def test_r26_dnd_sends_every_call_to_voicemail(world):
    alice = _acme(world, "201")
    world.set_features(alice["number"], dnd="on")
    mark = world.asterisk.log_mark()
    with world.handset_of(alice["handset"]) as desk:
        assert world.call_from_trunk(alice["number"], hold=1).ok  # answered by the mailbox
        assert world.call_from_handset(_acme(world, "202")["handset"], "201", hold=1).ok
    assert desk.invites == []
    assert voicemail_ran(world, mark, alice["id"], "b") == 2


def test_r26_dnd_without_voicemail_gives_the_engaged_tone(world):
    alice = _acme(world, "201")
    world.set_features(alice["number"], dnd="on", voicemail="off")
    with world.handset_of(alice["handset"]) as desk:
        assert world.call_from_trunk(alice["number"], expect=486).status == 486
    assert desk.invites == []


def test_r26_dnd_off_rings_the_handset_again(world):
    alice = _acme(world, "201")
    world.set_features(alice["number"], dnd="on")
    world.set_features(alice["number"], dnd="off")
    with world.handset_of(alice["handset"]) as desk:
        assert world.call_from_trunk(alice["number"]).ok
        desk.wait_invites(1, 10)


# -- R25 call waiting --------------------------------------------------------------------------


def test_r25_call_waiting_on_rings_the_busy_handset_a_second_time(world):
    alice = _acme(world, "201")
    with world.handset_of(alice["handset"], calls=2, hold=10) as desk:
        first = world.start_call_from_trunk(alice["number"], hold=4)
        desk.wait_invites(1, 10)
        wait_on_a_call(world, alice["handset"])
        second = world.call_from_trunk(alice["number"], caller=ANOTHER_CALLER, hold=1)
        assert second.ok, second
        assert first.wait().ok
    assert [i.from_.user for i in desk.invites] == [OUTSIDE_CALLER, ANOTHER_CALLER]


def test_r25_call_waiting_off_gives_the_second_caller_busy(world):
    alice = _acme(world, "201")
    world.set_features(alice["number"], call_waiting="off", voicemail="off")
    with world.handset_of(alice["handset"], calls=2, hold=10) as desk:
        first = world.start_call_from_trunk(alice["number"], hold=4)
        desk.wait_invites(1, 10)
        wait_on_a_call(world, alice["handset"])
        second = world.call_from_trunk(alice["number"], caller=ANOTHER_CALLER, expect=486)
        assert second.status == 486, second
        assert first.wait().ok
    assert len(desk.invites) == 1


def test_r25_call_waiting_off_with_voicemail_takes_a_message_instead(world):
    alice = _acme(world, "201")
    world.set_features(alice["number"], call_waiting="off")
    mark = world.asterisk.log_mark()
    with world.handset_of(alice["handset"], calls=2, hold=10) as desk:
        first = world.start_call_from_trunk(alice["number"], hold=4)
        desk.wait_invites(1, 10)
        wait_on_a_call(world, alice["handset"])
        assert world.call_from_trunk(alice["number"], caller=ANOTHER_CALLER, hold=1).ok
        assert first.wait().ok
    assert len(desk.invites) == 1
    assert voicemail_ran(world, mark, alice["id"], "b") == 1


# -- R27 CLI and R24 hide caller ID ------------------------------------------------------------


def test_r27_cli_number_is_shown_on_outgoing_calls_and_off_shows_the_own_number(world):
    alice = _acme(world, "201")
    main = world.number(main=True, site="London - Old Street", occupier="Acme Ltd")
    world.set_features(alice["number"], cli=main["number"])
    with world.outside_world(calls=2) as outside:
        assert world.call_from_handset(alice["handset"], EXTERNAL).ok
        world.set_features(alice["number"], cli="")
        assert world.call_from_handset(alice["handset"], EXTERNAL).ok
        outside.wait_invites(2, 10)
    assert [i.from_.user for i in outside.invites] == [main["number"], alice["number"]]
    assert all(i.privacy is None for i in outside.invites)


def test_r24_hide_caller_id_sends_anonymous_with_privacy_id_and_overrides_cli(world):
    alice = _acme(world, "201")
    main = world.number(main=True, site="London - Old Street", occupier="Acme Ltd")
    world.set_features(alice["number"], cli=main["number"], hide_caller_id="on")
    with world.outside_world() as outside:
        assert world.call_from_handset(alice["handset"], EXTERNAL).ok
        outside.wait_invites(1, 10)
    invite = outside.invites[0]
    assert invite.from_.user == "anonymous"
    assert invite.from_.display in (None, "Anonymous")
    assert "id" in invite.privacy
    # The carrier is trusted with the identity (for emergencies and billing), never the callee.
    assert invite.pai.user == main["number"]


def test_r24_hidden_caller_stays_hidden_towards_a_handset_and_off_shows_it_again(world):
    alice, bob = _acme(world, "201"), _acme(world, "202")
    world.set_features(alice["number"], hide_caller_id="on")
    with world.handset_of(bob["handset"], calls=2) as bob_desk:
        assert world.call_from_handset(alice["handset"], "202", hold=0.5).ok
        world.set_features(alice["number"], hide_caller_id="off")
        assert world.call_from_handset(alice["handset"], "202", hold=0.5).ok
        bob_desk.wait_invites(2, 10)
    hidden, shown = bob_desk.invites
    assert hidden.from_.user == "anonymous" and hidden.pai is None
    assert "Alice" not in (hidden.from_.display or "")
    assert shown.from_.user == "201" and shown.from_.display == "Alice Archer"


# -- forwarding chains and loops ---------------------------------------------------------------


def _chain(world, extensions, last_target):
    """Forward each extension always to the next, the last one to last_target (set back to front)."""
    targets = [*extensions[1:], last_target]
    for extension, target in reversed(list(zip(extensions, targets, strict=True))):
        world.set_features(_acme(world, extension)["number"], forward_always=target)


def test_r20_forwarding_chain_of_five_reaches_its_end(world):
    _chain(world, ["201", "203", "204", "301", "302"], EXTERNAL)
    with world.outside_world() as outside:
        assert world.call_from_trunk(_acme(world, "201")["number"]).ok
        outside.wait_invites(1, 10)


def test_r20_forwarding_chain_stops_after_five_hops(world):
    _chain(world, ["201", "202", "203", "204", "301", "302"], EXTERNAL)
    with world.outside_world() as outside:
        mark = world.asterisk.log_mark()
        result = world.call_from_trunk(_acme(world, "201")["number"], expect=480)
        assert result.status == 480, result
    assert outside.invites == []
    assert "forwarding chain stopped" in world.asterisk.log_since(mark)


def test_r20_forward_loop_through_no_answer_forwards_ends_instead_of_ringing_forever(world):
    # Bob's handset is not registered and 204 has none: each "no answer" forwards to the other.
    world.set_features(_acme(world, "202")["number"], forward_no_answer="204")
    world.set_features(_acme(world, "204")["number"], forward_no_answer="202")
    started = time.monotonic()
    result = world.call_from_trunk(_acme(world, "202")["number"], expect=480)
    assert result.status == 480, result
    assert time.monotonic() - started < 5


def test_r20_forward_loop_is_refused_by_the_service_and_changes_nothing(world):
    alice, bob = _acme(world, "201"), _acme(world, "202")
    world.set_features(alice["number"], forward_always="202")
    with pytest.raises(RuleBroken) as refused:
        world.set_features(bob["number"], forward_always="201")
    assert refused.value.rule == "R20" and "loop" in refused.value.message
    assert astdb(world, f"num/{bob['id']}/fwd_always") == ""
    with world.handset_of(bob["handset"]) as desk:
        assert world.call_from_trunk(bob["number"]).ok
        desk.wait_invites(1, 10)


def test_r21_refused_combination_leaves_the_live_state_alone(world):
    alice = _acme(world, "201")
    with pytest.raises(RuleBroken) as refused:
        world.set_features(alice["number"], forward_busy=EXTERNAL)  # call waiting is on
    assert refused.value.rule == "R21"
    assert astdb(world, f"num/{alice['id']}/fwd_busy") == ""
    assert astdb(world, f"num/{alice['id']}/cw") == "1"


def test_r32_the_caller_is_never_shown_internal_names(world):
    alice = _acme(world, "201")
    with world.handset_of(alice["handset"]) as desk:
        result = world.call_from_trunk(alice["number"], hold=1)
        assert result.ok, result
        desk.wait_invites(1, 10)
    received = [m for m in result.messages if m.direction == "received"]
    seen = " ".join(
        f"{m.header('from')} {m.header('to')} {m.header('p-asserted-identity')} {m.header('remote-party-id')}"
        for m in received
    )
    assert f"n{alice['id']}@" not in seen, seen
