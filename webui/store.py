"""The store as the web app reaches it: one transaction per unit of work."""
from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass

from flask import current_app
from sqlalchemy.orm import Session, sessionmaker

from pbx.store.db import transaction
from webui.ratelimit import SignInLimiter
from webui.web_sessions import SessionRegistry


@dataclass
class WebState:
    """What the app keeps beside its config: the store, signed-in sessions, sign-in failures."""

    sessions: sessionmaker[Session]
    web_sessions: SessionRegistry
    limiter: SignInLimiter


def state() -> WebState:
    return current_app.extensions["pbx"]


def unit_of_work() -> AbstractContextManager[Session]:
    """Committed when the block ends, rolled back when a service refuses."""
    return transaction(state().sessions)
