"""One unit of work whose refusals by the store's own constraints read like the services' refusals.

A service checks its rules on what it read; a change committed by someone else at the
same moment can still break them, and then the store's CHECK or unique constraint
refuses the commit. That is the same refusal, a moment later: R21's CHECK becomes
RuleBroken("R21"), a taken unique value becomes Conflict, never a crash (an HTTP 500).
The web UI, the CLI and the phone's store runner all end their units of work here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from pbx.feature_table import EXCLUSIONS
from pbx.services.errors import Conflict, PbxError, RuleBroken
from pbx.store.db import transaction

SIMULTANEOUS = "Someone else made a change at the same moment that this one conflicts with: reload and try again"
_UNIQUE_MARKS = ("unique constraint", "duplicate key")  # SQLite's and PostgreSQL's wording
_UNIQUE_SQLSTATE = "23505"


def refusal_for(error: IntegrityError) -> PbxError | None:
    """The refusal a constraint violation stands for; None for one no service rule covers (a bug)."""
    text = str(error.orig)
    for exclusion in EXCLUSIONS:
        if exclusion.name in text:
            return RuleBroken(exclusion.rule, exclusion.message)
    if getattr(error.orig, "sqlstate", None) == _UNIQUE_SQLSTATE or any(m in text.lower() for m in _UNIQUE_MARKS):
        return Conflict(SIMULTANEOUS)
    return None


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """pbx.store.transaction, its constraint violations raised as the rule or conflict they stand for."""
    try:
        with transaction(factory) as session:
            yield session
    except IntegrityError as error:
        refusal = refusal_for(error)
        if refusal is None:
            raise
        raise refusal from error
