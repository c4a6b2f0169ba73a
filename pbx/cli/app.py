"""What every command is handed: the settings, and sessions on a store whose schema is current."""

from __future__ import annotations

import click
from sqlalchemy.orm import Session, sessionmaker

from pbx.settings import Settings
from pbx.store import make_engine, make_session_factory
from pbx.store.migrate import check_current, upgrade


class App:
    """Built lazily, so `pbx --help` touches nothing."""

    def __init__(self) -> None:
        self.settings = Settings.from_env()
        self._factory: sessionmaker[Session] | None = None

    @property
    def factory(self) -> sessionmaker[Session]:
        """Sessions on the store; refuses (SchemaBehind/SchemaAhead) a store whose schema is not current."""
        if self._factory is None:
            self.check_schema()
            self._factory = make_session_factory(make_engine(self.settings.database_url))
        return self._factory

    def check_schema(self) -> None:
        check_current(self.settings.database_url)

    def migrate(self) -> None:
        """Only `pbx db upgrade` and `pbx up` change the schema."""
        upgrade(self.settings.database_url)


pass_app = click.make_pass_decorator(App, ensure=True)
