"""R33 and R4 with the real controller: changes are live on the next call with no reload,
Asterisk restarts end with Asterisk equal to the store, status tells the truth, and what
Asterisk cannot or will not take is recorded on the number without losing the intent.
"""

from __future__ import annotations

import asyncio
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import update

from pbx.asterisk import sync
from pbx.asterisk.ami import AmiError
from pbx.asterisk.controller import label_changes
from pbx.asterisk.handset_label import label_pushes
from pbx.asterisk.live_state import live_state
from pbx.asterisk.outbox import has_pending
from pbx.asterisk.snapshot import load_snapshot
from pbx.services import assignment, features, outbox
from pbx.services.actor import Actor
from pbx.store import NumberStatus, PhoneNumber, transaction
from tests.calls.test_features import EXTERNAL, astdb

pytestmark = pytest.mark.asterisk
# What Asterisk logs when PJSIP or any module is reloaded. `dialplan reload` logs nothing at
# our verbosity and sends no AMI event, so a sentinel added to the running dialplan shows it:
# a reload rebuilds the dialplan from the files and the sentinel is gone.
# Both checks are proved able to see a reload at the end of the test that uses them.
RELOAD_MARKERS = ("Reloading", "reload")
SENTINEL = "pbx-test-no-reload"
LIVE_TIMEOUT_S = 5
RESTART_TIMEOUT_S = 40


def change(world, number: str, **changes) -> None:
    """A feature change through pbx.services only, as the web UI or the CLI makes it."""
    with transaction(world.factory) as session:
        features.update_features(session, Actor.system("test"), world.number_id(number), changes)


def state_of(world, number: str) -> tuple[NumberStatus, str | None]:
    with transaction(world.factory) as session:
        n = session.get(PhoneNumber, world.number_id(number))
        return n.status, n.last_error


def wait_until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"{what}: not within {timeout} s")


def plant_sentinel(world) -> None:
    world.asterisk.command(f"dialplan add extension s,1,NoOp({SENTINEL}) into {SENTINEL} replace")


def reloads_seen(world, mark: int) -> list[str]:
    """Reloads since mark: module reloads in Asterisk's log, a dialplan reload by the lost sentinel."""
    time.sleep(0.2)  # Asterisk's logger writes asynchronously
    seen = [
        line for line in world.asterisk.log_since(mark).splitlines() if any(marker in line for marker in RELOAD_MARKERS)
    ]
    if f"NoOp({SENTINEL})" not in world.asterisk.command(f"dialplan show {SENTINEL}"):
        seen.append("dialplan reloaded (sentinel gone)")
    return seen


def astdb_matches_store(world) -> bool:
    with transaction(world.factory) as session:
        wanted = live_state(load_snapshot(session))
    return world.run_with_ami(sync.current_live_state) == wanted


def test_r33_change_is_live_on_the_very_next_call_with_no_reload(world):
    alice = world.number(extension="201", occupier="Acme Ltd")
    with world.running_controller() as controller:
        wait_until(lambda: controller.in_service, LIVE_TIMEOUT_S, "caught up")
        plant_sentinel(world)
        mark = world.asterisk.log_mark()
        change(world, alice["number"], forward_always=EXTERNAL)
        wait_until(
            lambda: astdb(world, f"num/{alice['id']}/fwd_always") == EXTERNAL, LIVE_TIMEOUT_S, "forward always live"
        )
        with world.outside_world() as outside, world.handset_of(alice["handset"]) as desk:
            assert world.call_from_trunk(alice["number"]).ok
            outside.wait_invites(1, 10)
            change(world, alice["number"], forward_always="", dnd="on", voicemail="off")
            wait_until(lambda: astdb(world, f"num/{alice['id']}/dnd") == "1", LIVE_TIMEOUT_S, "DND live")
            assert world.call_from_trunk(alice["number"], expect=486).status == 486
        assert desk.invites == [] and len(outside.invites) == 1
        assert reloads_seen(world, mark) == []
    # The checks above can see a reload: they are not vacuous.
    for command in ("dialplan reload", "module reload res_pjsip.so"):
        plant_sentinel(world)
        control = world.asterisk.log_mark()
        world.asterisk.command(command)
        assert reloads_seen(world, control), command


def test_r4_number_is_pending_until_the_controller_applies_it_then_active(world):
    bob = world.number(extension="202", occupier="Acme Ltd")
    change(world, bob["number"], dnd="on")
    assert state_of(world, bob["number"]) == (NumberStatus.PENDING, None)
    assert astdb(world, f"num/{bob['id']}/dnd") == ""  # nothing reached Asterisk yet
    with world.running_controller():
        wait_until(lambda: state_of(world, bob["number"])[0] is NumberStatus.ACTIVE, LIVE_TIMEOUT_S, "Active")
        assert astdb(world, f"num/{bob['id']}/dnd") == "1"
        change(world, bob["number"], dnd="off")
        wait_until(
            lambda: state_of(world, bob["number"]) == (NumberStatus.ACTIVE, None), LIVE_TIMEOUT_S, "Active again"
        )
        assert astdb(world, f"num/{bob['id']}/dnd") == ""


def test_r33_asterisk_restarted_while_changes_wait_ends_equal_to_the_store(world):
    alice = world.number(extension="201", occupier="Acme Ltd")
    bob = world.number(extension="202", occupier="Acme Ltd")
    local = world.asterisk.local
    with world.running_controller() as controller:
        wait_until(lambda: controller.in_service, LIVE_TIMEOUT_S, "caught up")
        assert (controller.full_syncs, controller.replays) == (0, 1)  # the world's sync is still there
        local.down()
        try:
            # A new Asterisk that lost its AstDB: everything must come back from the store.
            (local.instance_dir / "lib" / "astdb.sqlite3").unlink(missing_ok=True)
            change(world, alice["number"], dnd="on", voicemail="off")
            change(world, bob["number"], forward_always=EXTERNAL)
            time.sleep(1)  # the controller tries, backs off, and loses nothing
            assert state_of(world, alice["number"])[0] is NumberStatus.PENDING
            assert state_of(world, bob["number"])[0] is NumberStatus.PENDING
        finally:
            local.up()
        wait_until(lambda: controller.connects >= 2, RESTART_TIMEOUT_S, "reconnect")
        wait_until(
            lambda: all(state_of(world, n["number"]) == (NumberStatus.ACTIVE, None) for n in (alice, bob)),
            RESTART_TIMEOUT_S,
            "both numbers Active",
        )
        assert astdb_matches_store(world)
        # It waits for FullyBooted, then syncs once: this Asterisk lost its AstDB (and the
        # sync token in it), so a replay from the cursor would not do.
        assert (controller.full_syncs, controller.replays) == (1, 1) and controller.connects == 2
        with world.outside_world() as outside, world.handset_of(alice["handset"]) as desk:
            assert world.call_from_trunk(alice["number"], expect=486).status == 486
            assert world.call_from_trunk(bob["number"]).ok
            outside.wait_invites(1, 10)
        assert desk.invites == []


def test_r33_full_sync_is_idempotent_and_removes_what_the_store_does_not_have(world):
    world.run_with_ami(lambda ami: ami.db_deltree("pbx"))
    world.run_with_ami(lambda ami: ami.db_put("pbx", "num/9999/dnd", "1"))
    first = world.run_with_ami(world.controller.full_sync)
    with transaction(world.factory) as session:
        assert first.put == len(live_state(load_snapshot(session)))
    assert first.deleted == 1
    second = world.run_with_ami(world.controller.full_sync)
    assert (second.put, second.deleted, second.reloads, second.errors) == (0, 0, [], {})
    assert astdb_matches_store(world)


INJECTION = "Evil\r\nAction: DBPut\r\nFamily: pbx\r\nKey: injected\r\nVal: 1\r\n"


def test_ami_value_with_cr_lf_is_refused_and_recorded_on_the_number(world):
    carol = world.number(extension="301", occupier="Acme Ltd")
    label_key = f"num/{carol['id']}/label"
    label_before = astdb(world, label_key)
    with transaction(world.factory) as session:
        # A row written around the services (which refuse line breaks): the controller's own check.
        session.execute(update(PhoneNumber).where(PhoneNumber.id == carol["id"]).values(label_first=INJECTION))
        number = session.get(PhoneNumber, carol["id"])
        number.features.dnd = True
        outbox.number_changed(session, number)
    world.apply()
    status, error = state_of(world, carol["number"])
    assert status is NumberStatus.PENDING and "line break" in error and "label" in error
    assert astdb(world, label_key) == label_before
    assert astdb(world, "injected") is None
    assert astdb(world, f"num/{carol['id']}/dnd") == "1"  # the rest of the change went live
    report = world.run_with_ami(world.controller.full_sync)  # refused again, keeps the old label
    assert set(report.errors) == {carol["id"]} and astdb(world, label_key) == label_before
    with transaction(world.factory) as session:
        assignment.set_display_name(session, Actor.system("test"), carol["id"], "Carol", "Desk")
    world.apply()
    assert state_of(world, carol["number"]) == (NumberStatus.ACTIVE, None)
    assert astdb(world, label_key) == "Carol Desk"


class RefusingAmi:
    """An AMI session that is up but refuses every write, as Asterisk does when AstDB fails."""

    connected = True

    async def db_get(self, family, key):
        return None

    async def db_put(self, family, key, value):
        raise AmiError("DBPut: Failed to update entry")

    async def db_deltree(self, family, key=None):
        raise AmiError("DBDelTree: Database entry not deleted")


class LostAmi(RefusingAmi):
    connected = False


def test_r4_asterisk_refusal_is_recorded_and_the_intent_kept_until_a_sync_applies_it(world):
    bob = world.number(extension="202", occupier="Acme Ltd")
    change(world, bob["number"], forward_always=EXTERNAL)
    assert asyncio.run(world.controller.apply_outbox(RefusingAmi())) is True
    status, error = state_of(world, bob["number"])
    assert status is NumberStatus.PENDING and "Failed to update entry" in error
    with transaction(world.factory) as session:
        assert session.get(PhoneNumber, bob["id"]).features.forward_always == EXTERNAL  # the intent
    world.sync()  # what the controller's retry does once Asterisk takes writes again
    assert state_of(world, bob["number"]) == (NumberStatus.ACTIVE, None)
    assert astdb(world, f"num/{bob['id']}/fwd_always") == EXTERNAL


def test_r4_lost_connection_is_not_a_refusal_the_change_stays_waiting(world):
    bob = world.number(extension="202", occupier="Acme Ltd")
    change(world, bob["number"], dnd="on")
    with pytest.raises(AmiError):
        asyncio.run(world.controller.apply_outbox(LostAmi()))
    assert state_of(world, bob["number"]) == (NumberStatus.PENDING, None)
    with transaction(world.factory) as session:
        assert has_pending(session, world.controller.name)
    world.apply()
    assert state_of(world, bob["number"]) == (NumberStatus.ACTIVE, None)


def test_r15_only_a_label_or_login_change_pushes_to_the_handsets_screen():
    before = {"num/5/handset": "desk-5", "num/5/label": "Room", "num/5/dnd": "", "handset/desk-5": "5"}
    feature = {**before, "num/5/dnd": "1"}
    assert label_changes(before, feature) == {}
    relabel = {**before, "num/5/label": "Board Room"}
    assert label_changes(before, relabel) == {"num/5/handset": "desk-5", "num/5/label": "Board Room"}
    logout = {**before, "num/5/handset": "", "handset/desk-5": ""}
    assert label_pushes(label_changes(before, logout)) == {"desk-5": ""}


def listen_for_sip(port: int, seconds: float) -> list[str]:
    """Be the registered phone for a while: collect what arrives, answer each request 200 OK."""
    received = []
    deadline = time.monotonic() + seconds
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", port))
        while time.monotonic() < deadline:
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data, peer = sock.recvfrom(65535)
            except TimeoutError:
                break
            text = data.decode(errors="replace")
            received.append(text)
            head = text.partition("\r\n\r\n")[0].split("\r\n")
            keep = [
                line
                for line in head[1:]
                if line.split(":", 1)[0].strip().lower() in ("via", "from", "to", "call-id", "cseq")
            ]
            sock.sendto(("SIP/2.0 200 OK\r\n" + "\r\n".join(keep) + "\r\nContent-Length: 0\r\n\r\n").encode(), peer)
    return received


def test_r15_a_label_change_reaches_the_handsets_screen_a_feature_change_does_not(world):
    room = world.number(extension="203", occupier="Acme Ltd")  # "Meeting Room 1" on desk-os-3
    phone = world.handset_of(room["handset"])
    phone.register()
    try:
        with ThreadPoolExecutor(1) as pool:
            quiet = pool.submit(listen_for_sip, phone.port, 1.5)
            time.sleep(0.2)
            world.set_features(room["number"], dnd="on")
            assert [m for m in quiet.result() if m.startswith("NOTIFY")] == []
            arriving = pool.submit(listen_for_sip, phone.port, 2.0)
            time.sleep(0.2)
            with transaction(world.factory) as session:
                assignment.set_display_name(session, Actor.system("test"), room["id"], "Board", "Room")
            world.apply()
            notifies = [m for m in arriving.result() if m.startswith("NOTIFY")]
    finally:
        phone.register(expires=0)
    assert len(notifies) == 1 and "Label: Board Room" in notifies[0]
