"""R35 on real calls: the main number's hunt group, business hours and greeting.

Everything is set through pbx.services as the operator (Actor.system) and applied by the
controller's own code; what is asserted is what the handsets, the carrier and Asterisk see.
No fake clock: each test picks a site time zone in which "now" is mid-day, then weekly
hours that include (or exclude) the current minute there.
"""

from __future__ import annotations

import subprocess
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from pbx.asterisk.local import asterisk_folders
from pbx.services import business_hours, call_policy, main_greeting, main_number_handling
from pbx.services.actor import Actor
from pbx.store import transaction
from pbx.store.models import PhoneNumber
from tests.calls.ear import start_listening_trunk_call
from tests.calls.test_features import ANOTHER_CALLER, wait_on_a_call
from tests.world import OUTSIDE_CALLER

pytestmark = pytest.mark.asterisk
OPERATOR = Actor.system("test")
EXTERNAL = "+447700900456"  # a UK mobile behind the trunk: Acme's policy allows it
RING_S = 5
MOBILE = "+447400123456"  # a UK mobile by the numbering plan (tests/calls/test_call_policy.py)


def local_midday_zone() -> str:
    """An Etc/GMT zone where the local time now is between 06:00 and 17:59, far from midnight."""
    for offset in range(-12, 13):
        zone = f"Etc/GMT{offset:+d}" if offset else "Etc/GMT"
        if 6 <= datetime.now(ZoneInfo(zone)).hour < 18:
            return zone
    raise AssertionError("no zone found")


def hours(zone: str, *, open_now: bool) -> dict[str, list[str]]:
    """Every weekday open two hours either side of now (open_now) or only later today."""
    now = datetime.now(ZoneInfo(zone))
    if open_now:
        start, end = now - timedelta(hours=2), now + timedelta(hours=2)
    else:
        start, end = now + timedelta(hours=3), now + timedelta(hours=5)
    interval = f"{start:%H}:00-{end:%H}:00"
    return {day: [interval] for day in business_hours.WEEKDAYS}


class MainNumber:
    """Acme's main number at Old Street (ext 100) and the operator's changes to it."""

    def __init__(self, world):
        self.world = world
        self.data = world.number(main=True, site="London - Old Street", occupier="Acme Ltd")
        self.id = self.data["id"]
        with transaction(world.factory) as session:
            self.site_id = session.get(PhoneNumber, self.id).site_id

    def hunt(self, strategy: str, members: list[tuple[str, int]]) -> None:
        with transaction(self.world.factory) as session:
            main_number_handling.set_hunt(session, OPERATOR, self.id, strategy, members)
        self.world.apply()

    def hours(self, open_now: bool, closed_today: bool = False) -> None:
        zone = local_midday_zone()
        closed = [datetime.now(ZoneInfo(zone)).date().isoformat()] if closed_today else []
        with transaction(self.world.factory) as session:
            business_hours.set_site_hours(session, OPERATOR, self.site_id, zone, hours(zone, open_now=open_now), closed)
        self.world.apply()

    def out_of_hours(self, destination: str) -> None:
        with transaction(self.world.factory) as session:
            main_number_handling.set_out_of_hours(session, OPERATOR, self.id, destination)
        self.world.apply()


def _acme(world, extension):
    return world.number(extension=extension, occupier="Acme Ltd")


def voicemail_ran(world, mark: int, number_id: int) -> int:
    time.sleep(0.3)  # Asterisk's logger writes asynchronously
    return world.asterisk.log_since(mark).count(f'"n{number_id}@pbx,u")')


def cancelled(handset) -> bool:
    return any(m.method == "CANCEL" for m in handset.uas.messages() if m.direction == "received")


def test_r35_ring_all_rings_every_member_at_once_and_the_first_to_answer_gets_it(world):
    main, alice, bob = MainNumber(world), _acme(world, "201"), _acme(world, "202")
    main.hours(open_now=True)
    main.hunt("ring_all", [("201", 20), ("202", 20)])
    with world.handset_of(alice["handset"], mode="noanswer") as ringing, world.handset_of(bob["handset"]) as answers:
        result = world.call_from_trunk(main.data["number"], hold=1)
        assert result.ok, result
        ringing.wait_invites(1, 10)
        answers.wait_invites(1, 10)
        deadline = time.monotonic() + 15
        while not cancelled(ringing) and time.monotonic() < deadline:
            time.sleep(0.1)
    assert cancelled(ringing)  # alice's ringing stopped once bob answered
    assert len(ringing.invites) == 1 and len(answers.invites) == 1


def test_r35_in_order_skips_a_busy_member_and_rings_the_next(world):
    main, alice, bob = MainNumber(world), _acme(world, "201"), _acme(world, "202")
    main.hunt("in_order", [("201", 20), ("202", 20)])
    with world.handset_of(alice["handset"], mode="busy") as busy, world.handset_of(bob["handset"]) as desk:
        started = time.monotonic()
        result = world.call_from_trunk(main.data["number"], hold=1)
        assert result.ok, result
        desk.wait_invites(1, 10)
    assert len(busy.invites) == 1
    assert time.monotonic() - started < 15  # busy: the next member at once, not after 20 s


def test_r35_r21_in_order_skips_a_member_on_a_call_with_call_waiting_off(world):
    main, alice, bob = MainNumber(world), _acme(world, "201"), _acme(world, "202")
    world.set_features(alice["number"], call_waiting="off")
    main.hunt("in_order", [("201", 20), ("202", 20)])
    with world.handset_of(alice["handset"], calls=2, hold=10) as busy, world.handset_of(bob["handset"]) as desk:
        first = world.start_call_from_trunk(alice["number"], hold=6)
        busy.wait_invites(1, 10)
        wait_on_a_call(world, alice["handset"])
        started = time.monotonic()
        assert world.call_from_trunk(main.data["number"], caller=ANOTHER_CALLER, hold=1).ok
        desk.wait_invites(1, 10)
        assert time.monotonic() - started < 15  # the edge's 486: bob at once, not after alice's 20 s
        assert first.wait().ok
    assert len(busy.invites) == 1  # the hunt's INVITE never reached alice's handset


def test_r35_in_order_skips_a_member_on_dnd_without_ringing_it(world):
    main, alice, bob = MainNumber(world), _acme(world, "201"), _acme(world, "202")
    world.set_features(alice["number"], dnd="on")
    main.hunt("in_order", [("201", 20), ("202", 20)])
    with world.handset_of(alice["handset"]) as dnd, world.handset_of(bob["handset"]) as desk:
        assert world.call_from_trunk(main.data["number"], hold=1).ok
        desk.wait_invites(1, 10)
    assert dnd.invites == []


def test_r35_in_order_rings_the_next_member_after_the_first_ring_time(world):
    main, alice, bob = MainNumber(world), _acme(world, "201"), _acme(world, "202")
    main.hunt("in_order", [("201", RING_S), ("202", 20)])
    with world.handset_of(alice["handset"], mode="noanswer") as first, world.handset_of(bob["handset"]) as second:
        call = world.start_call_from_trunk(main.data["number"], hold=1, timeout=40)
        first.wait_invites(1, 10)
        rang_at = time.monotonic()
        second.wait_invites(1, RING_S + 10)
        moved_after = time.monotonic() - rang_at
        assert call.wait().ok
    assert RING_S - 1 <= moved_after <= RING_S + 3, moved_after


def test_r35_out_of_hours_goes_to_the_main_numbers_voicemail(world):
    main, alice = MainNumber(world), _acme(world, "201")
    main.hunt("ring_all", [("201", 20)])
    main.hours(open_now=False)
    mark = world.asterisk.log_mark()
    with world.handset_of(alice["handset"]) as desk:
        assert world.call_from_trunk(main.data["number"], hold=1).ok  # answered by the mailbox
    assert desk.invites == []
    assert voicemail_ran(world, mark, main.id) == 1
    assert not [p for p in world.asterisk.problems_since(mark) if "voicemail" in p.lower()]


def test_r35_a_closed_day_is_out_of_hours_even_within_the_weekly_hours(world):
    main, alice = MainNumber(world), _acme(world, "201")
    main.hunt("ring_all", [("201", 20)])
    main.hours(open_now=True, closed_today=True)
    mark = world.asterisk.log_mark()
    with world.handset_of(alice["handset"]) as desk:
        assert world.call_from_trunk(main.data["number"], hold=1).ok
    assert desk.invites == []
    assert voicemail_ran(world, mark, main.id) == 1


def test_r35_r39_out_of_hours_forward_goes_out_through_the_trunk(world):
    main, alice = MainNumber(world), _acme(world, "201")
    main.hunt("ring_all", [("201", 20)])
    main.hours(open_now=False)
    main.out_of_hours(EXTERNAL)
    with world.outside_world() as outside, world.handset_of(alice["handset"]) as desk:
        assert world.call_from_trunk(main.data["number"], hold=1).ok
        outside.wait_invites(1, 10)
    assert desk.invites == []
    assert outside.invites[0].request_user == EXTERNAL


def test_r35_r39_out_of_hours_forward_refused_at_call_time_once_the_policy_drops_its_class(world):
    main = MainNumber(world)
    main.hours(open_now=False)
    main.out_of_hours(MOBILE)  # allowed when saved
    with transaction(world.factory) as session:
        occupier_id = session.get(PhoneNumber, main.id).occupier_id
        call_policy.set_allowed_classes(session, OPERATOR, occupier_id, "national")
    world.apply()
    with world.outside_world() as outside:
        refused = world.call_from_trunk(main.data["number"], expect=403)
        assert refused.status == 403, refused
    assert outside.invites == []


def test_r35_hours_changed_back_to_open_ring_the_hunt_on_the_next_call(world):
    main, alice = MainNumber(world), _acme(world, "201")
    main.hunt("ring_all", [("201", 20)])
    main.hours(open_now=False)
    main.hours(open_now=True)
    with world.handset_of(alice["handset"]) as desk:
        assert world.call_from_trunk(main.data["number"], hold=1).ok
        desk.wait_invites(1, 10)


def tone_wav(path: Path, hz: int = 1000, seconds: float = 1.5) -> bytes:
    subprocess.run(
        ["sox", "-n", "-r", "44100", "-c", "2", str(path), "synth", str(seconds), "sine", str(hz)],
        check=True,
        timeout=30,
    )
    return path.read_bytes()


def test_r35_an_uploaded_greeting_is_converted_and_played_before_the_hunt(world, tmp_path):
    main, alice = MainNumber(world), _acme(world, "201")
    main.hunt("ring_all", [("201", 20)])
    with transaction(world.factory) as session:
        digest = main_greeting.upload_greeting(session, OPERATOR, main.id, tone_wav(tmp_path / "tone.wav"))
    world.apply()
    played = asterisk_folders(world.settings).spool / "pbx-greetings" / f"g{main.id}-{digest}.wav"
    assert played.exists()
    info = subprocess.run(["sox", "--i", str(played)], capture_output=True, text=True, check=True).stdout
    assert "Sample Rate    : 8000" in info and "Channels       : 1" in info
    mark = world.asterisk.log_mark()
    with world.handset_of(alice["handset"]) as desk:
        assert world.call_from_trunk(main.data["number"], hold=1).ok
        desk.wait_invites(1, 10)
    log = world.asterisk.log_since(mark)
    playing = log.find(f"/pbx-greetings/g{main.id}-{digest}.")  # file.c: Playing '<spool>/pbx-greetings/...'
    assert "Playing '" in log[max(0, playing - 200) : playing], log[-3000:]
    assert 0 <= playing < log.find('"Local/'), log[-3000:]  # the greeting played, then the hunt
    assert not [p for p in world.asterisk.problems_since(mark) if "pbx-greetings" in p]


def listen_to_main_number(world, main, alice):
    with world.handset_of(alice["handset"]):
        call, ear = start_listening_trunk_call(world.settings, main.data["number"], OUTSIDE_CALLER, hold=1)
        try:
            assert call.wait(40).ok
        finally:
            ear.close()
    return ear


@pytest.mark.parametrize("greeting", [True, False])
def test_r35_the_caller_hears_the_uploaded_1_khz_greeting(world, tmp_path, greeting):
    """The tone is in the audio the caller receives (early media), and only with the greeting."""
    main, alice = MainNumber(world), _acme(world, "201")
    main.hunt("ring_all", [("201", 20)])
    if greeting:
        with transaction(world.factory) as session:
            main_greeting.upload_greeting(session, OPERATOR, main.id, tone_wav(tmp_path / "tone.wav", seconds=2))
        world.apply()
    ear = listen_to_main_number(world, main, alice)
    assert ear.heard(1000) is greeting, f"{len(ear.samples)} samples"
    assert not ear.heard(440)
