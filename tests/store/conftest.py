"""Store tests run twice: on SQLite and on a real PostgreSQL server started here."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from pbx import demo
from pbx.store import make_engine, make_session_factory, transaction
from pbx.store.migrate import upgrade
from tests.postgres_server import PostgresServer


@pytest.fixture(scope="session")
def postgres_url():
    server = PostgresServer()
    try:
        url = server.start()
    except Exception:
        server.stop()
        raise
    yield url
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    base = request.getfixturevalue("postgres_url")
    name = f"pbx_{tmp_path.name.lower().replace('-', '_')[-40:]}"
    engine = make_engine(base)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return base.rsplit("/", 1)[0] + f"/{name}"


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
