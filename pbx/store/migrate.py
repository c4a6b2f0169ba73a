"""Schema migrations with Alembic, driven from Python so `pbx db upgrade` needs no alembic.ini.

Only `pbx db upgrade` and `pbx up` migrate. Everything else that uses the store first
checks that its schema is the one this code expects (`check_current`) and refuses
otherwise: a command, the web UI or the controller never changes a schema on the side.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from pbx.store.db import make_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
UPGRADE_HINT = "run pbx db upgrade"


class SchemaNotCurrent(Exception):
    """The store's schema is not the one this code was written for: nothing may use the store."""

    def __init__(self, current: str | None, expected: str, message: str) -> None:
        super().__init__(message)
        self.current = current
        self.expected = expected
        self.message = message


class SchemaBehind(SchemaNotCurrent):
    """The store has no schema yet, or an older one: `pbx db upgrade` brings it up to date."""

    def __init__(self, current: str | None, expected: str) -> None:
        super().__init__(
            current,
            expected,
            f"the store's schema is behind (revision {current or 'none'}, code expects {expected}): {UPGRADE_HINT}",
        )


class SchemaAhead(SchemaNotCurrent):
    """The store was migrated by newer code: this code does not know its schema."""

    def __init__(self, current: str | None, expected: str) -> None:
        super().__init__(
            current,
            expected,
            f"the store's schema is newer than this code (revision {current}, "
            f"code expects {expected}): run the newer pbx",
        )


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    engine: Engine = make_engine(url)  # creates the SQLite folder if needed
    engine.dispose()
    command.upgrade(alembic_config(url), revision)


def head_revision() -> str:
    """The revision this code expects: the last migration it ships."""
    head = ScriptDirectory.from_config(alembic_config("")).get_current_head()
    assert head is not None, "no migrations shipped"
    return head


def current_revision(url: str) -> str | None:
    """The store's revision; None when it has no schema (a SQLite file that does not exist is not created)."""
    from alembic.runtime.migration import MigrationContext

    if _missing_sqlite_file(url):
        return None
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def check_current(url: str) -> None:
    """Raise SchemaBehind or SchemaAhead unless the store's schema is the one this code expects."""
    expected = head_revision()
    current = current_revision(url)
    if current == expected:
        return
    known = {script.revision for script in ScriptDirectory.from_config(alembic_config("")).walk_revisions()}
    if current is None or current in known:
        raise SchemaBehind(current, expected)
    raise SchemaAhead(current, expected)


def _missing_sqlite_file(url: str) -> bool:
    parsed = make_url(url)
    database = parsed.database or ""
    return (
        parsed.get_backend_name() == "sqlite"
        and database not in ("", ":memory:")
        and not database.startswith("file:")
        and not Path(database).expanduser().exists()
    )
