"""Why a Pending change has not been applied yet (R4, R46), in words for the admin who waits.

A change waits in the change log until an agent has put it into its Asterisk. When no agent
has been seen for the heartbeat window (the controller is stopped) or every agent has lost its
Asterisk, nothing can apply it; the change is kept and applies when the system is back. Read
from the store only (the node table: a handful of rows), so a page can ask on every poll.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx.asterisk.outbox import HEARTBEAT_WINDOW
from pbx.store.models import Node, NodeState

LATER = "It is kept and applies by itself when the system is back; the number shows Pending until then."


@dataclass(frozen=True)
class Applying:
    ok: bool  # some agent is running with its Asterisk: a change applies within a second or so
    reason: str | None  # why not, for a person

    def as_dict(self) -> dict[str, object]:
        return {"ok": self.ok, "reason": self.reason, "later": None if self.ok else LATER}


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def applying(session: Session, now: datetime | None = None) -> Applying:
    """R46: can changes be applied now? One query on the node table."""
    now = now or datetime.now(UTC)
    nodes = list(session.scalars(select(Node)))
    live = [n for n in nodes if now - _aware(n.last_seen_at) <= HEARTBEAT_WINDOW]
    if not live:
        return Applying(False, "the controller that applies changes to Asterisk is not running")
    working = [n for n in live if n.state is not NodeState.DOWN]
    if not working:
        why = next((n.last_error for n in live if n.last_error), None)
        return Applying(False, f"Asterisk cannot be reached{f' ({why})' if why else ''}")
    return Applying(True, None)
