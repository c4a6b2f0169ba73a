"""The outbox: what Asterisk must learn of a change, written in the change's own transaction.

A transactional outbox: the row commits or rolls back with the change, so a crash
between "saved" and "sent" loses nothing. It is the change log every node applies: each
node's agent (pbx.asterisk.controller) reads it after its own cursor and settles the
numbers (pbx.asterisk.outbox). No code here sets the row's order: on PostgreSQL the
database does (txid, a server default).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from pbx.store.models import NumberStatus, OutboxEntry, OutboxKind, PhoneNumber


def enqueue(session: Session, kind: OutboxKind, subject_id: int | None = None) -> None:
    session.add(OutboxEntry(kind=kind, subject_id=subject_id))


def number_changed(session: Session, number: PhoneNumber, *, structure: bool = False) -> None:
    """Queue a number's new state for Asterisk; R4: it shows Pending until every node in service applies it."""
    session.flush()
    if structure:
        enqueue(session, OutboxKind.STRUCTURE)
    enqueue(session, OutboxKind.NUMBER, number.id)
    if number.status is NumberStatus.ACTIVE:
        number.status = NumberStatus.PENDING
    number.last_error = None
