"""Reading and closing outbox rows, and settling number status: the store side of the controller.

R4 / architecture principle 4: a number is Pending while a change of it waits for
Asterisk, Active once applied; when Asterisk could not take it, the number stays
Pending with the reason in last_error, and the store keeps the intent until a later
sync applies it.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete, exists, func, or_, select, update
from sqlalchemy.orm import Session, joinedload

from pbx.asterisk.live_state import handset_keys, number_keys
from pbx.asterisk.snapshot import HandsetView, number_view
from pbx.services.live import is_live
from pbx.store.models import (
    Handset, NumberFeatures, NumberStatus, OutboxEntry, OutboxKind, PhoneNumber, utcnow,
)

BATCH = 500
IN_LIST_MAX = 5000
# Applied rows are kept a week: enough to see what reached Asterisk lately. The audit
# log, not the outbox, is the lasting record of who changed what.
APPLIED_RETENTION = timedelta(days=7)
PRUNE_BATCH = 1000  # rows deleted per transaction: a short write lock, even on SQLite


@dataclass
class Batch:
    """What a run of outbox rows asks of Asterisk, merged: one reload however many rows."""

    row_ids: list[int] = field(default_factory=list)
    structure: bool = False
    number_ids: set[int] = field(default_factory=set)
    handset_ids: set[int] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.row_ids)


def has_pending(session: Session) -> bool:
    return session.scalar(select(exists().where(OutboxEntry.applied_at.is_(None)))) or False


def oldest_waiting_age(session: Session) -> timedelta | None:
    """R46: how long the oldest change not yet applied to Asterisk has waited; None when none waits."""
    oldest = session.scalar(select(func.min(OutboxEntry.created_at)).where(OutboxEntry.applied_at.is_(None)))
    if oldest is None:
        return None
    if oldest.tzinfo is None:  # SQLite keeps no time zone: the store writes UTC
        oldest = oldest.replace(tzinfo=UTC)
    return max(timedelta(0), utcnow() - oldest)


class WaitingProbe:
    """The controller's idle poll, 200 times a second: is any row waiting?

    One indexed query on one raw DB-API connection kept open: about 30 us a poll, where an
    ORM session costs 280 us (6% of a core at this rate, on a 2-core node shared with
    Asterisk). Any database error answers "yes", so the ORM path that follows meets it
    and reports it properly.
    """

    SQL = f"SELECT 1 FROM {OutboxEntry.__tablename__} WHERE applied_at IS NULL LIMIT 1"

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.connection = None

    def __call__(self) -> bool:
        try:
            if self.connection is None:
                self.connection = self.engine.raw_connection()
            cursor = self.connection.cursor()
            try:
                cursor.execute(self.SQL)
                found = cursor.fetchone() is not None
            finally:
                cursor.close()
            self.connection.rollback()  # end the read: the next poll sees new commits
            return found
        except Exception:  # noqa: BLE001 (any driver's error: reconnect, and let the ORM report it)
            self.close()
            return True

    def close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.close()
            except Exception:  # noqa: BLE001 (already broken)
                pass
            self.connection = None


def next_batch(session: Session, limit: int | None = BATCH) -> Batch:
    batch = Batch()
    rows = session.scalars(select(OutboxEntry).where(OutboxEntry.applied_at.is_(None))
                           .order_by(OutboxEntry.id).limit(limit))
    for row in rows:
        batch.row_ids.append(row.id)
        if row.kind is OutboxKind.STRUCTURE:
            batch.structure = True
        elif row.kind is OutboxKind.NUMBER and row.subject_id is not None:
            batch.number_ids.add(row.subject_id)
        elif row.kind is OutboxKind.HANDSET and row.subject_id is not None:
            batch.handset_ids.add(row.subject_id)
    return batch


def wanted_keys(session: Session, batch: Batch) -> tuple[dict[str, str], list[str]]:
    """The keys to put for the batch's numbers and handsets, and the number trees to delete."""
    keys: dict[str, str] = {}
    gone: list[str] = []
    found = set()
    if batch.number_ids:
        # One joined query: this runs for every change, inside the 50 ms goal.
        numbers = session.scalars(select(PhoneNumber).where(PhoneNumber.id.in_(batch.number_ids)).options(
            joinedload(PhoneNumber.user), joinedload(PhoneNumber.handset), joinedload(PhoneNumber.occupier),
            joinedload(PhoneNumber.features).joinedload(NumberFeatures.cli_number))).unique()
        for number in numbers:
            found.add(number.id)
            if not is_live(number):
                gone.append(f"num/{number.id}")
            else:
                keys.update(number_keys(number_view(number)))
    gone.extend(f"num/{number_id}" for number_id in batch.number_ids - found)
    if batch.handset_ids:
        for handset in session.scalars(select(Handset).where(Handset.id.in_(batch.handset_ids))):
            keys.update(handset_keys(HandsetView(handset.id, handset.phone_id, handset.sip_password,
                                                 handset.site_id, handset.number_id)))
    return keys, gone


def close_batch(session: Session, batch: Batch, errors: Mapping[int, str] | None = None) -> None:
    """Mark the rows done; each number is then settled (errors: number id -> why it is not live)."""
    errors = errors or {}
    now = utcnow()
    for ids in _chunks(batch.row_ids):
        session.execute(update(OutboxEntry).where(OutboxEntry.id.in_(ids)).values(
            applied_at=now, attempts=OutboxEntry.attempts + 1, last_error=None))
        for number_id, error in errors.items():
            session.execute(update(OutboxEntry).where(
                OutboxEntry.id.in_(ids), OutboxEntry.kind == OutboxKind.NUMBER,
                OutboxEntry.subject_id == number_id).values(last_error=error))
    for ids in _chunks(sorted(batch.number_ids)):
        _settle(session, session.scalars(select(PhoneNumber).where(PhoneNumber.id.in_(ids))), errors)


def _chunks(ids: list[int], size: int = IN_LIST_MAX) -> Iterable[list[int]]:
    """A full sync closes tens of thousands of rows; SQLite takes at most 32,766 parameters."""
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def settle_all(session: Session, errors: Mapping[int, str] | None = None) -> None:
    """After a full sync: every number that was Pending or failed is settled against what went live."""
    errors = errors or {}
    candidates = session.scalars(select(PhoneNumber).where(or_(
        PhoneNumber.status == NumberStatus.PENDING, PhoneNumber.last_error.is_not(None),
        PhoneNumber.id.in_(list(errors)))))
    _settle(session, candidates, errors)


def _settle(session: Session, numbers: Iterable[PhoneNumber], errors: Mapping[int, str]) -> None:
    """R4: Active when nothing is waiting and nothing failed; Pending with the reason otherwise."""
    # Every number still waiting, in one query (no IN list: a full sync settles thousands).
    waiting = set(session.scalars(select(OutboxEntry.subject_id).where(
        OutboxEntry.applied_at.is_(None), OutboxEntry.kind == OutboxKind.NUMBER)))
    for number in numbers:
        if number.status is NumberStatus.RESERVED:
            number.last_error = None
        elif number.id in errors:
            number.status = NumberStatus.PENDING
            number.last_error = errors[number.id]
        elif number.id not in waiting:
            number.status = NumberStatus.ACTIVE
            number.last_error = None


def note_failure(session: Session, batch: Batch, error: str) -> None:
    """Count a try that did not reach Asterisk; the rows stay waiting for the next one."""
    for row in session.scalars(select(OutboxEntry).where(OutboxEntry.id.in_(batch.row_ids))):
        row.attempts += 1
        row.last_error = error


def prune_applied(session: Session, older_than: datetime, limit: int = PRUNE_BATCH) -> int:
    """Delete at most limit rows applied before older_than, oldest first; the number deleted.

    Rows still waiting are never touched, whatever their age."""
    ids = list(session.scalars(select(OutboxEntry.id).where(OutboxEntry.applied_at < older_than)
                               .order_by(OutboxEntry.applied_at).limit(limit)))
    if ids:
        session.execute(delete(OutboxEntry).where(OutboxEntry.id.in_(ids))
                        .execution_options(synchronize_session=False))
    return len(ids)
