"""R46: is each part of pbx there? The store, Asterisk's AMI and ARI, and the controller's lag.

`pbx health` and the web UI's `GET /healthz` both ask `check()`. A change waits in the
outbox (its number Pending) while Asterisk or the controller is away, so the age of the
oldest waiting change is the controller's health: over LAG_LIMIT, something is wrong.
Details name what is down, never a secret, a URL or a host (`/healthz` needs no sign-in).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import httpx
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from pbx import credentials
from pbx.asterisk import ami
from pbx.asterisk.outbox import oldest_waiting_age
from pbx.settings import Settings
from pbx.store.db import make_engine, make_session_factory, transaction
from pbx.store.migrate import SchemaNotCurrent, check_current

# Changes are applied within milliseconds; one waiting this long means the controller or Asterisk is away.
LAG_LIMIT = timedelta(seconds=30)
AMI_TIMEOUT_S = 2.0
ARI_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class Health:
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def down(self) -> list[str]:
        return [c.name for c in self.checks if not c.ok]

    def as_dict(self) -> dict[str, object]:
        return {
            "status": "ok" if self.ok else "down",
            "down": self.down,
            "checks": {c.name: {"ok": c.ok, "detail": c.detail} for c in self.checks},
        }


def check_store(factory: sessionmaker[Session], url: str) -> Check:
    try:
        check_current(url)
        with transaction(factory) as session:
            session.execute(text("SELECT 1"))
    except SchemaNotCurrent as error:
        return Check("store", False, error.message)
    except (SQLAlchemyError, OSError) as error:
        return Check("store", False, f"cannot be reached ({type(error).__name__})")
    return Check("store", True, "reachable")


def check_ami(settings: Settings) -> Check:
    if ami.probe(settings, timeout=AMI_TIMEOUT_S):
        return Check("ami", True, "login accepted")
    return Check("ami", False, "Asterisk's AMI cannot be reached or refuses pbx's login")


def check_ari(settings: Settings) -> Check:
    """ARI answers pbx's credentials (GET /ari/asterisk/info): what the Stasis app needs."""
    url = f"http://{settings.asterisk_host}:{settings.ports.http}/ari/asterisk/info"
    auth = (settings.ari_user, credentials.ari_password(settings))
    try:
        status = httpx.get(url, auth=auth, timeout=ARI_TIMEOUT_S, trust_env=False).status_code
    except httpx.HTTPError as error:
        return Check("ari", False, f"Asterisk's ARI cannot be reached ({type(error).__name__})")
    if status == httpx.codes.OK:
        return Check("ari", True, "credentials accepted")
    if status == httpx.codes.UNAUTHORIZED:
        return Check("ari", False, "Asterisk's ARI refuses pbx's credentials")
    return Check("ari", False, f"Asterisk's ARI answers {status}")


def check_controller(factory: sessionmaker[Session], lag_limit: timedelta = LAG_LIMIT) -> Check:
    try:
        with transaction(factory) as session:
            age = oldest_waiting_age(session)
    except SQLAlchemyError as error:
        return Check("controller", False, f"unknown: the store cannot be read ({type(error).__name__})")
    if age is None:
        return Check("controller", True, "no change waiting")
    detail = f"the oldest change has waited {int(age.total_seconds())} s"
    if age > lag_limit:
        return Check("controller", False, f"{detail} (limit {int(lag_limit.total_seconds())} s)")
    return Check("controller", True, detail)


def check(settings: Settings, factory: sessionmaker[Session] | None = None) -> Health:
    """Every part, each checked even when another is down, so the answer names all that are."""
    if factory is not None:
        return _check_all(settings, factory)
    engine = make_engine(settings.database_url)
    try:
        return _check_all(settings, make_session_factory(engine))
    finally:
        engine.dispose()


def _check_all(settings: Settings, factory: sessionmaker[Session]) -> Health:
    store = check_store(factory, settings.database_url)
    return Health((store, check_ami(settings), check_ari(settings), check_controller(factory)))
