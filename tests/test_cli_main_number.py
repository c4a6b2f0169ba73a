"""R35 at the command line: `pbx site hours`, `pbx occupier hunt`, `pbx occupier greeting`."""

from __future__ import annotations

import subprocess

from tests import test_cli
from tests.test_cli import assert_one_line_error, run_pbx

# The CLI tests' demo store and state directory, shared as fixtures.
demo_db = test_cli.demo_db
state = test_cli.state


def test_r35_site_hours_set_shown_and_cleared(state):
    set_ = run_pbx(
        [
            "site",
            "hours",
            "London - Old Street",
            "--timezone",
            "Europe/London",
            "--day",
            "mon=09:00-12:30,13:30-17:00",
            "--day",
            "fri=09:00-16:00",
            "--closed",
            "2026-12-25",
        ],
        state,
    )
    assert set_.returncode == 0, set_.stderr
    assert "mon: 09:00-12:30, 13:30-17:00" in set_.stdout and "2026-12-25" in set_.stdout
    assert "tue: closed" in set_.stdout
    cleared = run_pbx(["site", "hours", "London - Old Street", "--clear"], state)
    assert "always open" in cleared.stdout


def test_r35_bad_hours_are_one_line_errors(state):
    bad_zone = run_pbx(
        ["site", "hours", "London - Old Street", "--timezone", "Moon/Base", "--day", "mon=09:00-17:00"], state
    )
    assert "not a known time zone" in assert_one_line_error(bad_zone, 2)
    overlap = run_pbx(
        ["site", "hours", "London - Old Street", "--timezone", "Europe/London", "--day", "mon=09:00-12:00,11:00-13:00"],
        state,
    )
    assert "overlap" in assert_one_line_error(overlap, 2)
    assert "always open" in run_pbx(["site", "hours", "London - Old Street"], state).stdout


def test_r35_occupier_hunt_set_and_refused(state):
    shown = run_pbx(
        [
            "occupier",
            "hunt",
            "Acme Ltd",
            "London - Old Street",
            "--strategy",
            "in_order",
            "--member",
            "201:10",
            "--member",
            "202",
            "--out-of-hours",
            "voicemail",
        ],
        state,
    )
    assert shown.returncode == 0, shown.stderr
    assert "hunt: in_order: 201 (10 s), 202 (20 s)" in shown.stdout
    other = run_pbx(["occupier", "hunt", "Acme Ltd", "London - Old Street", "--member", "501"], state)
    assert "is not an extension of Acme Ltd" in assert_one_line_error(other, 2)


def test_r35_greeting_upload_refuses_a_non_audio_file(state, tmp_path):
    junk = tmp_path / "notes.wav"
    junk.write_text("not audio")
    refused = run_pbx(["occupier", "greeting", "upload", "Acme Ltd", "London - Old Street", str(junk)], state)
    assert "not a WAV or MP3" in assert_one_line_error(refused, 2)
    tone = tmp_path / "tone.wav"
    subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", str(tone), "synth", "1", "sine", "1000"], check=True)
    done = run_pbx(["occupier", "greeting", "upload", "Acme Ltd", "London - Old Street", str(tone)], state)
    assert done.returncode == 0 and "uploaded" in done.stdout, done.stderr
