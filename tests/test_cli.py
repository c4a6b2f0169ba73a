"""The `pbx` command as an operator's script runs it: a subprocess, its exit code, its output.

Every command answers bad input with one error line and a non-zero exit, never a
traceback (exit 2: bad input; 1: refused or a missing service). `pbx features` is the
feature service's own way in, with the same rules (R20-R27) as the web UI.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys

import pytest

from pbx.settings import REPO_ROOT
from pbx.store.migrate import head_revision, upgrade

ALICE, BOB, MAIN = "+442079460201", "+442079460202", "+442079460100"
OTHER_SITE = "+442079460301"
CLI_TIMEOUT_S = 60


def closed_port() -> int:
    """A local TCP port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    """The demo store: `pbx db upgrade`, then `pbx demo` once; each test works on its own copy."""
    state = tmp_path_factory.mktemp("cli-template")
    for args in (["db", "upgrade"], ["demo"]):
        result = run_pbx(args, state)
        assert result.returncode == 0, result.stderr
    return state / "pbx.db"


@pytest.fixture
def state(tmp_path, demo_db):
    shutil.copy(demo_db, tmp_path / "pbx.db")
    return tmp_path


def run_pbx(args: list[str], state_dir, *, stdin_text: str | None = None, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("PBX_")}
    port = str(closed_port())
    base.update(
        {
            "PBX_STATE_DIR": str(state_dir),
            "PBX_CACHE_DIR": str(state_dir / "cache"),
            "PBX_DATABASE_URL": f"sqlite:///{state_dir / 'pbx.db'}",
            "PBX_INSTANCE": "cli-test",
            "PBX_SIP_PORT": port,
            "PBX_AMI_PORT": port,
            "PBX_HTTP_PORT": port,
            "PBX_TRUNK_OUTBOUND_PORT": port,
            "PBX_WEB_PORT": port,
        }
    )
    base.update(env)
    return subprocess.run(
        [sys.executable, "-m", "pbx.cli", *args],
        cwd=REPO_ROOT,
        env=base,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
        **({"input": stdin_text} if stdin_text is not None else {"stdin": subprocess.DEVNULL}),
    )


def assert_one_line_error(result: subprocess.CompletedProcess, code: int | None = None) -> str:
    assert result.returncode != 0, result
    if code is not None:
        assert result.returncode == code, result
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.lower().startswith(("pbx: error:", "error:"))]
    assert len(errors) == 1, result.stderr
    return errors[0]


def features(state, number: str) -> dict:
    result = run_pbx(["features", "show", number], state)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


# -- pbx features ------------------------------------------------------------------------------


def test_features_show_prints_the_numbers_features_as_json(state):
    shown = features(state, ALICE)
    assert shown["number"] == ALICE and shown["extension"] == "201" and shown["status"] == "active"
    assert (shown["dnd"], shown["call_waiting"], shown["forward_always"]) == (False, True, "")


def test_r4_features_set_changes_them_and_the_number_waits_for_asterisk(state):
    result = run_pbx(
        ["features", "set", ALICE, "dnd=on", "forward_no_answer=202", "no_answer_seconds=5", f"cli={MAIN}"], state
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "pending"
    shown = features(state, ALICE)
    assert (shown["dnd"], shown["forward_no_answer"], shown["no_answer_seconds"], shown["cli"]) == (
        True,
        "202",
        5,
        MAIN,
    )
    off = run_pbx(["features", "set", ALICE, "forward_no_answer=", "cli="], state)
    assert off.returncode == 0, off.stderr
    assert (features(state, ALICE)["forward_no_answer"], features(state, ALICE)["cli"]) == ("", "")


def test_r21_refused_change_exits_1_with_the_rules_message_and_saves_nothing(state):
    result = run_pbx(["features", "set", ALICE, "dnd=on", "forward_busy=+447700900123"], state)
    assert "exclude each other" in assert_one_line_error(result, 1)
    assert features(state, ALICE)["dnd"] is False  # all or nothing


def test_r22_authorization_code_is_set_by_the_operator_never_shown_and_stops_forwarding(state):
    assert run_pbx(["features", "set", ALICE, "authorization_code=4821"], state).returncode == 0
    result = run_pbx(["features", "show", ALICE], state)
    assert json.loads(result.stdout)["authorization_code"] is True and "4821" not in result.stdout
    refused = run_pbx(["features", "set", ALICE, "forward_always=+447700900123"], state)
    assert "authorization code" in assert_one_line_error(refused, 1)


def test_r20_forward_loop_is_refused(state):
    assert run_pbx(["features", "set", ALICE, "forward_always=202"], state).returncode == 0
    assert "loop" in assert_one_line_error(run_pbx(["features", "set", BOB, "forward_always=201"], state), 1)


@pytest.mark.parametrize(
    "args, code, words",
    [
        (["features", "show", "201"], 2, "international format"),
        (["features", "show", "+442079469999"], 1, "not found"),
        (["features", "set", ALICE, "dnd"], 2, "key=value"),
        (["features", "set", ALICE, "colour=red"], 2, "not a feature"),
        (["features", "set", ALICE, "dnd=maybe"], 2, "on or off"),
        (["features", "set", ALICE, "no_answer_seconds=500"], 2, "5 to 120"),
        (["features", "set", ALICE, "forward_always=999"], 2, "emergency"),
        (["features", "set", ALICE, "forward_always=201"], 2, "itself"),
        (["features", "set", ALICE, "voicemail_email=a@b.example\r\nBcc: x@evil.example"], 2, "Voicemail to email"),
        (["features", "set", ALICE, f"cli={OTHER_SITE}"], 1, "is not an active number"),
        (["features", "set", MAIN, "dnd=on"], 1, "read-only"),
        (["features", "set", ALICE], 2, "Missing argument"),
        (["features", "show"], 2, "Missing argument"),
    ],
)
def test_features_bad_input_is_one_line_and_non_zero(state, args, code, words):
    assert words in assert_one_line_error(run_pbx(args, state), code)


# -- every other command -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, env",
    [
        (["db", "upgrade"], {"PBX_DATABASE_URL": "nonsense://x"}),
        (["db", "upgrade"], {"PBX_DATABASE_URL": "sqlite:////proc/no-such-dir/pbx.db"}),
        (["demo"], {"PBX_DATABASE_URL": "postgresql://u:p@127.0.0.1:{closed}/pbx"}),
        (["demo", "--json"], {"PBX_DATABASE_URL": "sqlite:///{not_a_db}"}),
        (["render"], {}),
        (["render", "--out", "{not_a_db}"], {}),
        (["sync"], {}),  # no Asterisk on the AMI port
        (["asterisk", "up"], {"PBX_SIP_PORT": "sip"}),
        (["asterisk", "down"], {"PBX_AMI_PORT": "-1"}),
        (["asterisk", "status"], {"PBX_HTTP_PORT": "80a"}),
        (["controller"], {"PBX_AMI_PORT": "x"}),
        (["web"], {"PBX_WEB_PORT": "web"}),
        (["up"], {"PBX_SIP_PORT": "x"}),
        (["down"], {"PBX_TRUNK_OUTBOUND_PORT": "x"}),
        (["features", "show", ALICE], {"PBX_DATABASE_URL": "sqlite:///{not_a_db}"}),
        (["no-such-command"], {}),
        (["db", "no-such-command"], {}),
    ],
)
def test_every_command_answers_bad_input_with_one_line(state, args, env):
    not_a_db = state / "not-a-database.txt"
    not_a_db.write_text("plain text\n")
    values = {"closed": closed_port(), "not_a_db": not_a_db}
    args = [a.format(**values) for a in args]
    env = {k: v.format(**values) for k, v in env.items()}
    assert_one_line_error(run_pbx(args, state, **env))


# -- the store's schema: only `pbx db upgrade` and `pbx up` change it ---------------------------

STORE_COMMANDS = [
    ["demo"],
    ["demo", "--json"],
    ["render", "--out", "{state}/rendered"],
    ["features", "show", ALICE],
    ["features", "set", ALICE, "dnd=on"],
    ["sync"],
    ["asterisk", "up"],
    ["controller"],
    ["web"],
]


def store_contents(path) -> dict[str, object]:
    """Every table's row count and the schema revision: what a refused command must leave as it was."""
    with sqlite3.connect(path) as connection:
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        contents: dict[str, object] = {
            t: connection.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables
        }
        contents["revision"] = connection.execute("SELECT version_num FROM alembic_version").fetchall()
    return contents


@pytest.mark.parametrize("args", [["demo", "--json"], ["features", "show", ALICE], ["web"]])
def test_a_command_refuses_a_store_with_no_schema_and_creates_nothing(tmp_path, args):
    error = assert_one_line_error(run_pbx([a.format(state=tmp_path) for a in args], tmp_path), 1)
    assert error == (
        f"pbx: error: the store's schema is behind (revision none, code expects {head_revision()}): run pbx db upgrade"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize("args", STORE_COMMANDS)
def test_a_command_refuses_a_store_whose_schema_is_behind_and_changes_nothing(tmp_path, args):
    store = tmp_path / "pbx.db"
    upgrade(f"sqlite:///{store}", "0001")
    before = store_contents(store)

    error = assert_one_line_error(run_pbx([a.format(state=tmp_path) for a in args], tmp_path), 1)

    assert f"schema is behind (revision 0001, code expects {head_revision()}): run pbx db upgrade" in error
    assert store_contents(store) == before


def test_pbx_db_upgrade_then_makes_the_store_usable(tmp_path):
    upgrade(f"sqlite:///{tmp_path / 'pbx.db'}", "0001")
    assert run_pbx(["demo"], tmp_path).returncode == 1

    upgraded = run_pbx(["db", "upgrade"], tmp_path)

    assert upgraded.returncode == 0, upgraded.stderr
    assert run_pbx(["demo"], tmp_path).stdout.strip() == "demo data seeded"
    assert features(tmp_path, ALICE)["number"] == ALICE


def test_a_store_migrated_by_newer_code_is_refused(state):
    with sqlite3.connect(state / "pbx.db") as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999'")

    error = assert_one_line_error(run_pbx(["features", "show", ALICE], state), 1)

    assert "newer than this code (revision 9999" in error


def test_r40_features_reset_code_unlocks_the_authorization_code(state):
    from sqlalchemy import select, update

    from pbx.store import PhoneNumber, make_engine, make_session_factory, transaction

    engine = make_engine(f"sqlite:///{state / 'pbx.db'}")
    with transaction(make_session_factory(engine)) as session:
        session.execute(
            update(PhoneNumber).where(PhoneNumber.e164 == ALICE).values(failed_code_count=3, code_locked=True)
        )
    result = run_pbx(["features", "reset-code", ALICE], state)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"the authorization code of {ALICE} is unlocked"
    with transaction(make_session_factory(engine)) as session:
        row = session.scalar(select(PhoneNumber).where(PhoneNumber.e164 == ALICE))
        assert (row.failed_code_count, row.code_locked) == (0, False)
    engine.dispose()


# -- pbx occupier policy ------------------------------------------------------------------------


def test_r39_occupier_policy_shows_sets_and_the_forward_obeys_it(state):
    shown = run_pbx(["occupier", "policy", "Acme Ltd"], state)
    assert shown.returncode == 0 and shown.stdout.strip() == "Acme Ltd: national,mobile", shown.stderr
    refused = run_pbx(["features", "set", ALICE, "forward_always=+88213200000"], state)
    assert "Satellite calls are not allowed for Acme Ltd" in assert_one_line_error(refused, 1)
    allowed = run_pbx(["occupier", "policy", "Acme Ltd", "national,mobile,satellite"], state)
    assert allowed.stdout.strip() == "Acme Ltd: national,mobile,satellite", allowed.stderr
    assert run_pbx(["features", "set", ALICE, "forward_always=+88213200000"], state).returncode == 0
    assert "expensive is not a class of call" in assert_one_line_error(
        run_pbx(["occupier", "policy", "Acme Ltd", "expensive"], state), 2
    )


def test_r44_occupier_conference_number_and_pin_from_the_cli(state):
    shown = run_pbx(["occupier", "conference", "Acme Ltd"], state)
    assert shown.stdout.strip() == "Acme Ltd: feature code *88, number none, PIN not set", shown.stderr
    changed = run_pbx(
        ["occupier", "conference", "Acme Ltd", "--number", "+442079460204", "--set-pin"],
        state,
        stdin_text="4821\n4821\n",
    )
    assert changed.returncode == 0, changed.stderr
    assert changed.stdout.strip().endswith("Acme Ltd: feature code *88, number +442079460204, PIN set")
    assert "4821" not in changed.stdout + changed.stderr
    assert "belongs to a user" in assert_one_line_error(
        run_pbx(["occupier", "conference", "Acme Ltd", "--number", ALICE], state), 1
    )
    assert "4 to 8 digits" in assert_one_line_error(
        run_pbx(["occupier", "conference", "Acme Ltd", "--set-pin"], state, stdin_text="12\n12\n"), 2
    )
    cleared = run_pbx(["occupier", "conference", "Acme Ltd", "--no-number"], state)
    assert cleared.stdout.strip() == "Acme Ltd: feature code *88, number none, PIN set", cleared.stderr
