"""Server-side record of signed-in sessions, so that signing out really ends one.

Flask's cookie is only signed: on its own, a copied cookie would stay valid after
sign-out. The cookie therefore carries a random session id that must be in this
registry; sign-in issues a new id (rotation), sign-out removes it. In-process:
restarting `pbx web` signs everyone out, which is the safe direction.
"""
from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from typing import Callable

MAX_AGE_S = 12 * 60 * 60  # a working day: then sign in again
IDLE_S = 2 * 60 * 60


@dataclass
class _Entry:
    user_id: int
    started: float
    seen: float


class SessionRegistry:
    def __init__(self, max_age_s: float = MAX_AGE_S, idle_s: float = IDLE_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_age_s = max_age_s
        self.idle_s = idle_s
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def start(self, user_id: int) -> str:
        sid = secrets.token_urlsafe(32)
        now = self._clock()
        with self._lock:
            for old in [s for s, e in self._entries.items() if self._expired(e, now)]:
                del self._entries[old]  # sessions nobody signed out of do not pile up
            self._entries[sid] = _Entry(user_id, now, now)
        return sid

    def _expired(self, entry: _Entry, now: float) -> bool:
        return now - entry.started > self.max_age_s or now - entry.seen > self.idle_s

    def user_id(self, sid: str | None) -> int | None:
        """The user of a live session, touching it; None when it ended or expired."""
        if not sid:
            return None
        now = self._clock()
        with self._lock:
            entry = self._entries.get(sid)
            if entry is None:
                return None
            if self._expired(entry, now):
                del self._entries[sid]
                return None
            entry.seen = now
            return entry.user_id

    def end(self, sid: str | None) -> None:
        if sid:
            with self._lock:
                self._entries.pop(sid, None)

