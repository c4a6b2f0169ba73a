"""The audit log and the outbox, written in the same transaction as the change they describe."""
from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from pbx.services.actor import Actor
from pbx.store.models import AuditEntry, NumberStatus, OutboxEntry, OutboxKind, PhoneNumber


def audit(session: Session, actor: Actor, action: str, *, number: PhoneNumber | None = None,
          occupier_id: int | None = None, **detail: Any) -> None:
    session.add(AuditEntry(
        actor_user_id=actor.user_id,
        actor=actor.label,
        action=action,
        occupier_id=occupier_id if occupier_id is not None else (number.occupier_id if number else None),
        number_id=number.id if number else None,
        detail=json.dumps(detail, sort_keys=True, default=str),
    ))


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
