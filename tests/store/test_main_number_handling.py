"""R35 at save time: the operator's main-number call handling, through the services the CLI,
the API and the console use. Bad input is refused with a clear error and nothing changes."""

from __future__ import annotations

import json
import subprocess

import pytest
from sqlalchemy import func, select

from pbx.services import business_hours, main_greeting, main_number_handling
from pbx.services.actor import Actor
from pbx.services.errors import Forbidden, InvalidInput, RuleBroken
from pbx.store import AuditEntry, OutboxEntry, transaction
from pbx.store.models import MainGreeting, MainNumberHandling, SiteHours
from tests.store.helpers import actor, number

OPERATOR = Actor.system("test")
MAIN = "+442079460100"  # Acme's main number at Old Street
GLOBEX_MAIN = "+442079460500"  # Globex's main number at the same site
KINGS_CROSS_MEMBER = "301"  # an Acme extension at the other site
WEEK = {"mon": ["09:00-12:30", "13:30-17:00"], "fri": ["09:00-16:00"]}


def _main(session, e164=MAIN):
    return number(session, e164)


def _counts(session) -> tuple[int, int, int, int]:
    return (
        session.scalar(select(func.count()).select_from(MainNumberHandling)),
        session.scalar(select(func.count()).select_from(SiteHours)),
        session.scalar(select(func.count()).select_from(OutboxEntry)),
        session.scalar(select(func.count()).select_from(AuditEntry)),
    )


def test_r35_hunt_group_saved_audited_and_queued(demo_factory):
    with transaction(demo_factory) as session:
        main = _main(session)
        before = _counts(session)
        shown = main_number_handling.set_hunt(session, OPERATOR, main.id, "in_order", [("201", 10), ("202", "25")])
        assert [(m.extension, m.ring_s) for m in shown.members] == [("201", 10), ("202", 25)]
        assert shown.strategy == "in_order"
        after = _counts(session)
    assert after[0] == before[0] + 1 and after[2] > before[2] and after[3] == before[3] + 1


def test_r35_site_hours_saved_and_every_main_number_of_the_site_queued(demo_factory):
    with transaction(demo_factory) as session:
        main, globex = _main(session), _main(session, GLOBEX_MAIN)
        mark = session.scalar(select(func.max(OutboxEntry.id)))
        hours = business_hours.set_site_hours(session, OPERATOR, main.site_id, "Europe/London", WEEK, ["2026-12-25"])
        assert hours.weekly["mon"] == (("09:00", "12:30"), ("13:30", "17:00"))
        queued = set(session.scalars(select(OutboxEntry.subject_id).where(OutboxEntry.id > mark)))
    assert {main.id, globex.id} <= queued


@pytest.mark.parametrize(
    ("zone", "week", "closed", "field"),
    [
        ("Mars/Olympus", WEEK, [], "timezone"),
        ("Europe/London;x", WEEK, [], "timezone"),
        ("Europe/London", {"mon": ["09:00-12:00", "11:00-13:00"]}, [], "hours_mon"),
        ("Europe/London", {"mon": ["17:00-09:00"]}, [], "hours_mon"),
        ("Europe/London", {"mon": ["9-5"]}, [], "hours_mon"),
        ("Europe/London", {"someday": ["09:00-17:00"]}, [], "hours"),
        ("Europe/London", WEEK, ["2026-02-30"], "closed_days"),
    ],
)
def test_r35_bad_hours_are_refused_and_nothing_changes(demo_factory, zone, week, closed, field):
    with transaction(demo_factory) as session:
        before = _counts(session)
        with pytest.raises(InvalidInput) as refused:
            business_hours.set_site_hours(session, OPERATOR, _main(session).site_id, zone, week, closed)
        assert field in getattr(refused.value, "errors", {refused.value.field: ""})
    with transaction(demo_factory) as session:
        assert _counts(session) == before


def test_r35_overlap_message_names_both_intervals():
    with pytest.raises(InvalidInput) as refused:
        business_hours.check_day("mon", ["09:00-12:00", "11:30-13:00"])
    assert "09:00-12:00 and 11:30-13:00 overlap" in refused.value.message


@pytest.mark.parametrize(
    ("members", "field"),
    [
        ([("501", 20)], "member_501"),  # Globex's extension: another occupier
        ([(KINGS_CROSS_MEMBER, 20)], "member_301"),  # Acme, but another site
        ([("205", 20)], "member_205"),  # reserved: not in service
        ([("201", 2)], "member_201"),  # ring time below the minimum
        ([("201", 61)], "member_201"),
    ],
)
def test_r35_bad_hunt_members_are_refused_and_nothing_changes(demo_factory, members, field):
    with transaction(demo_factory) as session:
        before = _counts(session)
        with pytest.raises(InvalidInput) as refused:
            main_number_handling.set_hunt(session, OPERATOR, _main(session).id, "ring_all", members)
        assert field in refused.value.errors
    with transaction(demo_factory) as session:
        assert _counts(session) == before


def test_r35_only_the_operator_sets_call_handling(demo_factory):
    with transaction(demo_factory) as session:
        admin = actor(session, "admin@acme.example")
        with pytest.raises(Forbidden):
            main_number_handling.set_hunt(session, admin, _main(session).id, "ring_all", [("201", 20)])
        with pytest.raises(Forbidden):
            business_hours.set_site_hours(session, admin, _main(session).site_id, "Europe/London", WEEK)


def test_r35_a_number_that_is_not_main_has_no_hunt_group(demo_factory):
    with transaction(demo_factory) as session, pytest.raises(RuleBroken) as refused:
        main_number_handling.set_hunt(session, OPERATOR, number(session, "+442079460201").id, "ring_all", [])
    assert refused.value.rule == "R35"


def test_r35_r39_out_of_hours_forward_obeys_the_call_policy(demo_factory):
    with transaction(demo_factory) as session:
        main = _main(session)
        with pytest.raises(RuleBroken) as refused:
            main_number_handling.set_out_of_hours(session, OPERATOR, main.id, "+449098790000")  # premium
        assert refused.value.rule == "R39" and "out-of-hours destination" in refused.value.message
    with transaction(demo_factory) as session:
        main = _main(session)
        assert main.handling is None
        shown = main_number_handling.set_out_of_hours(session, OPERATOR, main.id, "+447400123456")
        assert shown.out_of_hours == "+447400123456"
        assert main_number_handling.set_out_of_hours(session, OPERATOR, main.id, "voicemail").out_of_hours == (
            "voicemail"
        )


def test_r35_a_non_audio_upload_is_refused_and_nothing_changes(demo_factory):
    with transaction(demo_factory) as session:
        main = _main(session)
        for junk, says in [
            (b"", "empty"),
            (b"hello, this is not audio", "not a WAV or MP3"),
            (b"RIFF\x10\x00\x00\x00WAVEjunkjunkjunk", "not readable WAV"),
        ]:
            with pytest.raises(InvalidInput) as refused:
                main_greeting.upload_greeting(session, OPERATOR, main.id, junk)
            assert says in refused.value.message
    with transaction(demo_factory) as session:
        assert session.scalar(select(func.count()).select_from(MainGreeting)) == 0
        assert _main(session).handling is None


def test_r35_a_greeting_is_converted_to_8_khz_mono(demo_factory, tmp_path):
    tone = tmp_path / "tone.mp3"
    subprocess.run(["sox", "-n", "-r", "44100", "-c", "2", str(tone), "synth", "1", "sine", "1000"], check=True)
    with transaction(demo_factory) as session:
        main = _main(session)
        digest = main_greeting.upload_greeting(session, OPERATOR, main.id, tone.read_bytes())
        assert main.handling.greeting == digest
        stored = session.get(MainGreeting, main.id)
        out = tmp_path / "g.wav"
        out.write_bytes(stored.audio_8k)
        info = subprocess.run(["sox", "--i", str(out)], capture_output=True, text=True, check=True).stdout
        assert "Sample Rate    : 8000" in info and "Channels       : 1" in info
        assert (
            json.loads(session.scalars(select(AuditEntry.detail).order_by(AuditEntry.id.desc())).first())["digest"]
            == digest
        )


def test_r35_too_long_a_greeting_is_refused(tmp_path):
    long = tmp_path / "long.wav"
    subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", str(long), "synth", "130", "sine", "440"], check=True)
    with pytest.raises(InvalidInput) as refused:
        main_greeting.convert(long.read_bytes())
    assert "seconds" in refused.value.message
