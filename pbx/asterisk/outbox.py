"""Reading and closing outbox rows: the store side of the controller."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, selectinload

from pbx.asterisk.live_state import handset_keys, number_keys
from pbx.asterisk.snapshot import HandsetView, number_view
from pbx.store.models import (
    Handset, NumberFeatures, NumberStatus, OutboxEntry, OutboxKind, PhoneNumber, utcnow,
)

BATCH = 500


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
    numbers = session.scalars(select(PhoneNumber).where(PhoneNumber.id.in_(batch.number_ids)).options(
        selectinload(PhoneNumber.user), selectinload(PhoneNumber.handset), selectinload(PhoneNumber.occupier),
        selectinload(PhoneNumber.features).selectinload(NumberFeatures.cli_number)))
    found = set()
    for number in numbers:
        found.add(number.id)
        if number.status is NumberStatus.RESERVED or not number.occupier.voice_services_active:
            gone.append(f"num/{number.id}")
        else:
            keys.update(number_keys(number_view(number)))
    gone.extend(f"num/{number_id}" for number_id in batch.number_ids - found)
    for handset in session.scalars(select(Handset).where(Handset.id.in_(batch.handset_ids))):
        keys.update(handset_keys(HandsetView(handset.id, handset.phone_id, handset.sip_password,
                                             handset.site_id, handset.number_id)))
    return keys, gone


def close_batch(session: Session, batch: Batch, error: str | None = None) -> None:
    """Mark rows applied; a number with nothing left waiting is Active again (R4)."""
    now = utcnow()
    for row in session.scalars(select(OutboxEntry).where(OutboxEntry.id.in_(batch.row_ids))):
        row.applied_at = now
        row.attempts += 1
        row.last_error = error
    session.flush()
    for number in session.scalars(select(PhoneNumber).where(PhoneNumber.id.in_(batch.number_ids))):
        waiting = session.scalar(select(exists().where(
            OutboxEntry.applied_at.is_(None), OutboxEntry.kind == OutboxKind.NUMBER,
            OutboxEntry.subject_id == number.id)))
        if number.status is NumberStatus.PENDING and not waiting:
            number.status = NumberStatus.ACTIVE
        number.last_error = error


def note_failure(session: Session, batch: Batch, error: str) -> None:
    for row in session.scalars(select(OutboxEntry).where(OutboxEntry.id.in_(batch.row_ids))):
        row.attempts += 1
        row.last_error = error
