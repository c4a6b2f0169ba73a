"""Store tests run twice: on SQLite and on a real PostgreSQL server started here."""

from __future__ import annotations

import pytest

from pbx import demo
from pbx.store import make_engine, make_session_factory, transaction
from pbx.store.migrate import upgrade
from tests.postgres_server import database_name, fresh_database


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return fresh_database(request.getfixturevalue("postgres_url"), database_name(tmp_path))


@pytest.fixture
def factory(db_url):
    upgrade(db_url)
    engine = make_engine(db_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def demo_factory(factory):
    with transaction(factory) as session:
        demo.seed(session)
    return factory
