"""R46: `pbx health` and `GET /healthz` against the real test Asterisk, then with parts of it away.

Asked as a monitoring script asks: the command's exit code and lines, the endpoint's
status and JSON, with no sign-in and no secret in the answer.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from pbx.health import LAG_LIMIT
from pbx.settings import Settings
from pbx.store import OutboxEntry, OutboxKind, make_engine, make_session_factory, transaction
from pbx.store.migrate import upgrade
from pbx.store.models import utcnow
from tests.sip.instance import settings_env
from tests.test_cli import closed_port, run_pbx
from webui import create_app

OLD = LAG_LIMIT + timedelta(minutes=4)


@pytest.fixture
def store_settings(asterisk, tmp_path) -> Settings:
    """The running test Asterisk's settings with a store of this test's own, migrated and empty."""
    url = f"sqlite:///{tmp_path / 'health.db'}"
    upgrade(url)
    return dataclasses.replace(asterisk.settings, database_url=url, state_dir=tmp_path)


def healthz(settings: Settings):
    app = create_app({"DATABASE_URL": settings.database_url, "SECRET_KEY": "test-secret-key"}, settings=settings)
    return app.test_client().get("/healthz")


def pbx_health(settings: Settings):
    env = {**settings_env(settings), "PBX_AMI_USER": settings.ami_user, "PBX_AMI_SECRET": settings.ami_secret}
    return run_pbx(["health"], settings.state_dir, **env)


def secrets_of(settings: Settings) -> list[str]:
    return [settings.ami_secret, settings.ari_password, settings.database_url, str(settings.state_dir)]


def test_r46_all_there_answers_healthy(store_settings):
    answer = healthz(store_settings)
    command = pbx_health(store_settings)

    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.json["status"] == "ok" and answer.json["down"] == []
    assert set(answer.json["checks"]) == {"store", "ami", "controller"}
    assert command.returncode == 0, command.stdout + command.stderr
    assert command.stdout.splitlines() == [
        "store: up: reachable",
        "ami: up: login accepted",
        "controller: up: no change waiting",
    ]
    assert not any(secret in answer.get_data(as_text=True) for secret in secrets_of(store_settings))


def test_r46_ami_away_is_named_with_503_and_exit_1(store_settings):
    away = dataclasses.replace(store_settings, ports=dataclasses.replace(store_settings.ports, ami=closed_port()))

    answer = healthz(away)
    command = pbx_health(away)

    assert answer.status_code == 503
    assert answer.json["down"] == ["ami"]
    assert command.returncode == 1
    assert "ami: DOWN" in command.stdout and "pbx: error: down: ami" in command.stderr
    assert not any(secret in answer.get_data(as_text=True) for secret in secrets_of(away))


def test_r46_a_change_waiting_too_long_reports_the_controllers_lag(store_settings):
    engine = make_engine(store_settings.database_url)
    with transaction(make_session_factory(engine)) as session:
        session.add(OutboxEntry(kind=OutboxKind.STRUCTURE, created_at=utcnow() - OLD))
    engine.dispose()

    answer = healthz(store_settings)
    command = pbx_health(store_settings)

    assert answer.status_code == 503
    assert answer.json["down"] == ["controller"]
    detail = answer.json["checks"]["controller"]["detail"]
    assert detail.startswith(f"the oldest change has waited {int(OLD.total_seconds())}")
    assert command.returncode == 1 and "controller: DOWN: the oldest change has waited" in command.stdout
    assert answer.json["checks"]["store"]["ok"] is True


def test_r46_a_store_away_is_named(store_settings, tmp_path):
    gone = dataclasses.replace(store_settings, database_url=f"sqlite:///{tmp_path / 'nothing' / 'none.db'}")

    command = pbx_health(gone)

    assert command.returncode == 1
    assert "store: DOWN" in command.stdout and "controller: DOWN" in command.stdout
    assert "ami: up" in command.stdout
