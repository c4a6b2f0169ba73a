"""Server-side record of signed-in sessions, so that signing out really ends one.

Flask's cookie is only signed: on its own, a copied cookie would stay valid after
sign-out. The cookie therefore carries a random session id that must be in this
registry; sign-in issues a new id (rotation), sign-out removes it. The registry
lives in the store, so restarting `pbx web` or running several workers keeps
everyone signed in; only the id's SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable

from sqlalchemy import delete, or_
from sqlalchemy.orm import Session, sessionmaker

from pbx.store.db import transaction
from pbx.store.models import WebSession

MAX_AGE_S = 12 * 60 * 60  # a working day: then sign in again
IDLE_S = 2 * 60 * 60
TOUCH_EVERY_S = 60  # "last seen" is written at most once a minute, not on every request


def _hash(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


class SessionRegistry:
    def __init__(
        self,
        factory: sessionmaker[Session],
        max_age_s: float = MAX_AGE_S,
        idle_s: float = IDLE_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.factory = factory
        self.max_age_s = max_age_s
        self.idle_s = idle_s
        self._clock = clock

    def start(self, user_id: int) -> str:
        sid = secrets.token_urlsafe(32)
        now = self._clock()
        with transaction(self.factory) as session:
            # Sessions nobody signed out of do not pile up.
            session.execute(
                delete(WebSession).where(
                    or_(WebSession.started < now - self.max_age_s, WebSession.seen < now - self.idle_s)
                )
            )
            session.add(WebSession(token_hash=_hash(sid), user_id=user_id, started=now, seen=now))
        return sid

    def _expired(self, entry: WebSession, now: float) -> bool:
        return now - entry.started > self.max_age_s or now - entry.seen > self.idle_s

    def user_id(self, sid: str | None) -> int | None:
        """The user of a live session, touching it; None when it ended or expired."""
        if not sid:
            return None
        now = self._clock()
        with transaction(self.factory) as session:
            entry = session.get(WebSession, _hash(sid))
            if entry is None:
                return None
            if self._expired(entry, now):
                session.delete(entry)
                return None
            if now - entry.seen >= min(TOUCH_EVERY_S, self.idle_s / 2):
                entry.seen = now
            return entry.user_id

    def end(self, sid: str | None) -> None:
        if sid:
            with transaction(self.factory) as session:
                session.execute(delete(WebSession).where(WebSession.token_hash == _hash(sid)))
