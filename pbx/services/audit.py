"""The audit log: who changed what, written in the same transaction as the change.

Kept for good (the outbox is pruned once applied, the audit log is not).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

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
    session.add(
        AuditEntry(
            actor_user_id=actor.user_id,
            actor=actor.label,
            action=action,
            occupier_id=occupier_id if occupier_id is not None else (number.occupier_id if number else None),
            number_id=number.id if number else None,
            detail=json.dumps(detail, sort_keys=True, default=str),
        )
    )
