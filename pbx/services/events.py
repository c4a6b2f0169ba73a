"""R45: every change, published to subscribers (webhooks, the SSE stream), never lost.

An event row is written by `audit.record`, in the same transaction as the change and its
audit row: it commits or rolls back with the change, so a subscriber can miss nothing and
is never told of a change that did not happen (a transactional outbox, like the change
log). The voicemail-left event comes from the node agent's mailer when it first finds a
message (pbx.asterisk.voicemail_mail). Reading is ordered like the change log: (txid, id)
on PostgreSQL below the oldest running transaction, id on SQLite (`after`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, literal_column, select, true, tuple_
from sqlalchemy.orm import Session

from pbx.store.models import Event, PhoneNumber, utcnow

Position = tuple[int, int]  # (txid, id); SQLite: (0, id)
START: Position = (0, 0)
# PostgreSQL: below this every transaction has ended, so no event can still commit behind a cursor.
XMIN: ColumnElement[int] = literal_column("pg_snapshot_xmin(pg_current_snapshot())::text::bigint")

# Audit actions that are changes a subscriber sees, by the event name it gets.
KINDS = {
    "number.allocate": "number.allocated",
    "number.activate": "number.activated",
    "number.set_main": "number.main_number_set",
    "number.assign": "number.assigned",
    "number.unassign": "number.unassigned",
    "number.display_name": "number.display_name_changed",
    "number.features": "number.features_changed",
    "handset.login": "handset.logged_in",
    "handset.logout": "handset.logged_out",
    "handset.register": "handset.registered",
    "pin.reset": "pin.reset",
    "pin.set_custom": "pin.changed",
    "authcode.reset": "authorization_code.unlocked",
    "occupier.voice_services": "occupier.voice_services_changed",
    "occupier.call_policy": "occupier.call_policy_changed",
    "user.create": "user.created",
}
# Attempts are not changes, except the one that locks (R18, R40).
LOCKING = {"pin.attempt": "pin.locked", "authcode.attempt": "authorization_code.locked"}
VOICEMAIL_LEFT = "voicemail.left"
ALL_KINDS = sorted({*KINDS.values(), *LOCKING.values(), VOICEMAIL_LEFT})


def kind_of(action: str, detail: dict[str, Any]) -> str | None:
    if action in LOCKING:
        return LOCKING[action] if detail.get("result") == "locked" else None
    return KINDS.get(action)


def publish(
    session: Session,
    kind: str,
    *,
    occupier_id: int | None,
    number: PhoneNumber | None = None,
    number_id: int | None = None,
    actor: str | None = None,
    **detail: Any,
) -> None:
    """Add the event to the caller's transaction (it commits with the change)."""
    number_id = number.id if number is not None else number_id
    data = {"actor": actor, "e164": number.e164 if number is not None else None, "detail": detail}
    session.add(
        Event(kind=kind, occupier_id=occupier_id, number_id=number_id, data=json.dumps(data, default=str), at=utcnow())
    )


def from_audit(
    session: Session,
    action: str,
    actor: str,
    occupier_id: int | None,
    number: PhoneNumber | None,
    detail: dict[str, Any],
) -> None:
    kind = kind_of(action, detail)
    if kind is not None:
        publish(session, kind, occupier_id=occupier_id, number=number, actor=actor, **detail)


# -- reading -----------------------------------------------------------------------------------
def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _after(session: Session, cursor: Position) -> ColumnElement[bool]:
    if _postgres(session):
        return (tuple_(Event.txid, Event.id) > tuple_(*cursor)) & (Event.txid < XMIN)
    return Event.id > cursor[1] if cursor[1] else true()


def position_of(event: Event) -> Position:
    return (event.txid or 0, event.id)


def encode(position: Position) -> str:
    """An event's id as subscribers see it (SSE `id:`, the webhook body's `id`)."""
    return f"{position[0]}-{position[1]}"


def decode(text: str | None) -> Position | None:
    parts = (text or "").strip().split("-")
    if len(parts) != 2 or not all(p.isdigit() and len(p) < 20 for p in parts):
        return None
    return (int(parts[0]), int(parts[1]))


def head(session: Session) -> Position:
    """Where a new subscriber starts: after every event already readable."""
    order = (Event.txid.desc(), Event.id.desc()) if _postgres(session) else (Event.id.desc(),)
    last = session.scalar(select(Event).where(_after(session, START)).order_by(*order).limit(1))
    return position_of(last) if last is not None else START


def after(session: Session, cursor: Position, occupier_id: int | None, limit: int = 200) -> list[Event]:
    """The events after `cursor`, in order; `occupier_id` None: all occupiers' (the operator)."""
    order = (Event.txid, Event.id) if _postgres(session) else (Event.id,)
    query = select(Event).where(_after(session, cursor))
    if occupier_id is not None:
        query = query.where(Event.occupier_id == occupier_id)
    return list(session.scalars(query.order_by(*order).limit(limit)))


@dataclass(frozen=True)
class Published:
    """An event as subscribers receive it (the webhook body, the SSE data)."""

    id: str
    kind: str
    at: str
    occupier_id: int | None
    number_id: int | None
    data: dict[str, Any]

    @classmethod
    def of(cls, event: Event) -> Published:
        return cls(
            id=encode(position_of(event)),
            kind=event.kind,
            at=event.at.isoformat(),
            occupier_id=event.occupier_id,
            number_id=event.number_id,
            data=json.loads(event.data),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.kind,
            "at": self.at,
            "occupier_id": self.occupier_id,
            "number_id": self.number_id,
            **self.data,
        }
