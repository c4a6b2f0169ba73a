"""Sign-in attempts, limited per e-mail and address so guessing a password takes years.

In-process, like the web sessions: enough for the single `pbx web` process; a
deployment with several workers would keep these counts in the store instead.
"""
from __future__ import annotations

import threading
import time
from collections import deque
from typing import Callable

MAX_FAILURES = 5
WINDOW_S = 5 * 60


class SignInLimiter:
    """At most MAX_FAILURES failed sign-ins per (email, ip) in any WINDOW_S seconds."""

    def __init__(self, max_failures: int = MAX_FAILURES, window_s: float = WINDOW_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self._clock = clock
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key(email: str, ip: str) -> tuple[str, str]:
        return email.strip().lower(), ip

    def _recent(self, key: tuple[str, str]) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        cutoff = self._clock() - self.window_s
        while times and times[0] <= cutoff:
            times.popleft()
        return times

    def retry_after(self, email: str, ip: str) -> int:
        """Seconds until the next attempt is allowed; 0 when it is allowed now."""
        key = self.key(email, ip)
        with self._lock:
            times = self._recent(key)
            if not times:
                del self._failures[key]  # forget old failures, so guessed e-mails do not pile up
            if len(times) < self.max_failures:
                return 0
            return max(1, int(times[0] + self.window_s - self._clock()) + 1)

    def failed(self, email: str, ip: str) -> None:
        with self._lock:
            self._recent(self.key(email, ip)).append(self._clock())

    def succeeded(self, email: str, ip: str) -> None:
        with self._lock:
            self._failures.pop(self.key(email, ip), None)
