"""Start the local Asterisk with the store's config already in place, so it boots complete."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from pbx.asterisk.local import LocalAsterisk
from pbx.asterisk.render import render
from pbx.asterisk.snapshot import load_snapshot
from pbx.settings import Settings
from pbx.store.db import transaction


def start_local_asterisk(settings: Settings, factory: sessionmaker[Session]) -> LocalAsterisk:
    local = LocalAsterisk(settings)
    with transaction(factory) as session:
        files = render(load_snapshot(session), settings)
    local.write_files(files)
    local.up()
    return local
