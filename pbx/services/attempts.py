"""R18, R40: PIN and authorization code attempts counted exactly, even at the same moment.

An attempt is counted *before* the secret is verified, by one conditional UPDATE that
returns the new count. That UPDATE takes the row's write lock on PostgreSQL and the
database's write lock on SQLite (which ignores FOR UPDATE, and whose earlier reads in
the same unit of work hold no lock at all), and the lock is held until the unit of
work commits. So simultaneous calls are counted one after another: each sees the
count the previous one left, and the third wrong one in a row locks.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from sqlalchemy import update
from sqlalchemy.orm import InstrumentedAttribute, Session

from pbx.store.models import PhoneNumber

MAX_FAILED_ATTEMPTS = 3


@dataclass(frozen=True)
class Counter:
    """Which of the number's columns count failures of a secret, and lock it."""

    count: InstrumentedAttribute[int]
    locked: InstrumentedAttribute[bool]


PIN = Counter(PhoneNumber.failed_pin_count, PhoneNumber.pin_locked)
CODE = Counter(PhoneNumber.failed_code_count, PhoneNumber.code_locked)


class Outcome(str, Enum):
    RIGHT = "right"
    WRONG = "wrong"
    LOCKED = "locked"  # locked now or before: nothing opens


def begin_attempt(session: Session, counter: Counter, number: PhoneNumber) -> bool:
    """Count one attempt on `number`, taking its write lock; False if the secret is locked already."""
    counted = session.execute(
        update(PhoneNumber)
        .where(PhoneNumber.id == number.id, counter.locked.is_(False))
        .values({counter.count: counter.count + 1})
        .returning(counter.count)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    if counted is not None and counted > MAX_FAILED_ATTEMPTS:
        _set(session, counter, number, locked=True)  # counted past the limit without a lock: never expected
        counted = None
    session.expire(number, [counter.count.key, counter.locked.key])
    return counted is not None


def end_attempt(session: Session, counter: Counter, number: PhoneNumber, right: bool) -> Outcome:
    """After verifying: a right secret clears the count; the third wrong one in a row locks (R18, R40)."""
    if right:
        _set(session, counter, number, count=0)
        return Outcome.RIGHT
    if getattr(number, counter.count.key) >= MAX_FAILED_ATTEMPTS:
        _set(session, counter, number, locked=True)
        return Outcome.LOCKED
    return Outcome.WRONG


def reset(session: Session, counter: Counter, number: PhoneNumber) -> None:
    """R14, R40: unlocked, no failures counted."""
    _set(session, counter, number, count=0, locked=False)


def _set(session: Session, counter: Counter, number: PhoneNumber, **values: object) -> None:
    columns = {"count": counter.count, "locked": counter.locked}
    session.execute(
        update(PhoneNumber)
        .where(PhoneNumber.id == number.id)
        .values({columns[name]: value for name, value in values.items()})
        .execution_options(synchronize_session=False)
    )
    session.expire(number, [counter.count.key, counter.locked.key])
