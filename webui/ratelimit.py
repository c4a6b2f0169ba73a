"""Failed sign-ins, limited per address, per account and per (account, address) pair.

The pair limit stops one guesser at one account; the address limit stops one guesser
trying many accounts (password spraying); the account limit stops many addresses
guessing one account. The counts live in the store (`sign_in_failure`), so they hold
across `pbx web` workers and restarts. Only hashes of the keys are kept.

An account's limit is counted whether or not the e-mail belongs to anyone, so the
answer "too many failed sign-ins for this account" never tells whether it exists.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from pbx.store.db import transaction
from pbx.store.models import SignInFailure

WINDOW_S = 5 * 60
MAX_FAILURES = 5  # per (account, address)
MAX_PER_ADDRESS = 20  # an office behind one address still signs in after a few typos each
MAX_PER_ACCOUNT = 10  # many addresses guessing one account


class Scope(str, Enum):
    PAIR = "pair"
    ADDRESS = "address"
    ACCOUNT = "account"


@dataclass(frozen=True)
class Blocked:
    scope: Scope
    retry_after_s: int


def _key(scope: Scope, email: str, ip: str) -> str:
    account = email.strip().lower()
    value = {Scope.PAIR: f"{account}\n{ip}", Scope.ADDRESS: ip, Scope.ACCOUNT: account}[scope]
    return hashlib.sha256(f"{scope.value}:{value}".encode()).hexdigest()


class SignInLimiter:
    """At most `limits[scope]` failed sign-ins per scope's key in any `window_s` seconds."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        max_failures: int = MAX_FAILURES,
        window_s: float = WINDOW_S,
        max_per_address: int = MAX_PER_ADDRESS,
        max_per_account: int = MAX_PER_ACCOUNT,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.factory = factory
        self.window_s = window_s
        self.limits = {Scope.PAIR: max_failures, Scope.ADDRESS: max_per_address, Scope.ACCOUNT: max_per_account}
        self._clock = clock

    def blocked(self, email: str, ip: str) -> Blocked | None:
        """Why the next attempt is refused now and for how long; None when it is allowed."""
        now = self._clock()
        worst: Blocked | None = None
        with transaction(self.factory) as session:
            for scope, limit in self.limits.items():
                times = session.scalars(
                    select(SignInFailure.at)
                    .where(SignInFailure.key == _key(scope, email, ip), SignInFailure.at > now - self.window_s)
                    .order_by(SignInFailure.at)
                ).all()
                if len(times) >= limit:
                    # Allowed again when all but limit-1 of these failures have left the window.
                    wait = max(1, int(times[len(times) - limit] + self.window_s - now) + 1)
                    if worst is None or wait > worst.retry_after_s:
                        worst = Blocked(scope, wait)
        return worst

    def retry_after(self, email: str, ip: str) -> int:
        """Seconds until the next attempt is allowed; 0 when it is allowed now."""
        blocked = self.blocked(email, ip)
        return blocked.retry_after_s if blocked else 0

    def failed(self, email: str, ip: str) -> None:
        now = self._clock()
        with transaction(self.factory) as session:
            session.execute(delete(SignInFailure).where(SignInFailure.at <= now - self.window_s))
            session.add_all(SignInFailure(key=_key(scope, email, ip), at=now) for scope in Scope)

    def succeeded(self, email: str, ip: str) -> None:
        """The pair's failures are forgiven; the address's and the account's still count."""
        with transaction(self.factory) as session:
            session.execute(delete(SignInFailure).where(SignInFailure.key == _key(Scope.PAIR, email, ip)))
