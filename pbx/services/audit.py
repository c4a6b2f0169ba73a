"""The audit log: who changed what, written in the same transaction as the change.

Kept for good (the outbox is pruned once applied, the audit log is not). Each change that
subscribers see is also published as an event row here, in the same transaction (R45).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from pbx.services import events
from pbx.services.actor import Actor
from pbx.store.models import AuditEntry, PhoneNumber


def record(
    session: Session,
    actor: Actor,
    action: str,
    *,
    number: PhoneNumber | None = None,
    occupier_id: int | None = None,
    **detail: Any,
) -> None:
    occupier_id = occupier_id if occupier_id is not None else (number.occupier_id if number else None)
    session.add(
        AuditEntry(
            actor_user_id=actor.user_id,
            actor=actor.label,
            action=action,
            occupier_id=occupier_id,
            number_id=number.id if number else None,
            detail=json.dumps(detail, sort_keys=True, default=str),
        )
    )
    # R45: the same transaction publishes the change to subscribers (pbx.services.events).
    events.from_audit(session, action, actor.label, occupier_id, number, detail)
