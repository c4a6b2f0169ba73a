"""The store as the web app reaches it: one transaction per unit of work."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass

from flask import current_app
from sqlalchemy.orm import Session, sessionmaker

from pbx.services.unit_of_work import unit_of_work as service_unit_of_work
from pbx.settings import Settings
from webui.ratelimit import SignInLimiter
from webui.web_sessions import SessionRegistry


@dataclass
class WebState:
    """What the app keeps beside its config: the store, signed-in sessions, sign-in failures."""

    sessions: sessionmaker[Session]
    web_sessions: SessionRegistry
    limiter: SignInLimiter
    settings: Settings  # where Asterisk is, for /healthz


def state() -> WebState:
    return current_app.extensions["pbx"]


def unit_of_work() -> AbstractContextManager[Session]:
    """Committed when the block ends, rolled back when a service refuses; a rule broken by a change made
    at the same moment is refused like any other (pbx.services.unit_of_work)."""
    return service_unit_of_work(state().sessions)
