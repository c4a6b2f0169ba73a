"""The outbox: what Asterisk must learn of a change, written in the change's own transaction.

A transactional outbox: the row commits or rolls back with the change, so a crash
between "saved" and "sent" loses nothing (the controller, pbx.asterisk.controller,
applies the rows and settles the numbers).
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from pbx.store.models import NumberStatus, OutboxEntry, OutboxKind, PhoneNumber


def enqueue(session: Session, kind: OutboxKind, subject_id: int | None = None) -> None:
    session.add(OutboxEntry(kind=kind, subject_id=subject_id))


def number_changed(session: Session, number: PhoneNumber, *, structure: bool = False) -> None:
    """Queue a number's new state for Asterisk; R4: it shows Pending until the controller applies it."""
    session.flush()
    if structure:
        enqueue(session, OutboxKind.STRUCTURE)
    enqueue(session, OutboxKind.NUMBER, number.id)
    if number.status is NumberStatus.ACTIVE:
        number.status = NumberStatus.PENDING
    number.last_error = None
