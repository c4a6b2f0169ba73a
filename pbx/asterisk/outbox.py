"""The change log (the outbox) as the node agents read it: batches after a cursor, cursors, settling.

A broadcast, not a queue: every node's agent (pbx.asterisk.controller) reads every row after its own
cursor (store.Node), applies it to its Asterisk, then commits its cursor. Positions are
(txid, id) on PostgreSQL, read only below `pg_snapshot_xmin(pg_current_snapshot())`, and
(0, id) on SQLite; store.OutboxEntry says why each order is safe against a late commit.

R4 / architecture principle 4, with N nodes: a number is Pending while a change of it waits for
a node that counts (the applying node itself, and every node in service seen within
HEARTBEAT_WINDOW), Active once all of them have applied it. When a node's Asterisk could not
take it, the number stays Pending with that node's reason in last_error, and the store keeps the
intent until a later sync applies it.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Engine, delete, func, literal_column, or_, select, true, tuple_
from sqlalchemy.orm import Session, joinedload

from pbx.asterisk.live_state import handset_keys, number_keys
from pbx.asterisk.portal_keys import site_keys
from pbx.asterisk.snapshot import SiteView, handset_view, number_view
from pbx.feature_table import Kind, of_kind
from pbx.services.live import is_live
from pbx.store.feature_columns import related
from pbx.store.models import (
    Handset,
    Node,
    NodeState,
    NumberFeatures,
    NumberStatus,
    OutboxEntry,
    OutboxKind,
    PhoneNumber,
    Site,
    utcnow,
)

Position = tuple[int, int]  # (txid, id); SQLite: (0, id)
START: Position = (0, 0)
BATCH = 500
CATCHUP_BATCH = 5000  # rows a batch while a node catches up (at most IN_LIST_MAX numbers)
IN_LIST_MAX = 5000
# Rows are kept a week once every node has applied them: enough to see what reached Asterisk
# lately. The audit log, not the change log, is the lasting record of who changed what. A node
# not seen for as long is forgotten: it full-syncs when it comes back.
APPLIED_RETENTION = timedelta(days=7)
PRUNE_BATCH = 1000  # rows deleted per transaction: a short write lock, even on SQLite
# A node in service counts for Active while its agent was seen this recently (it beats every
# HEARTBEAT_S, pbx.asterisk.controller).
HEARTBEAT_WINDOW = timedelta(seconds=30)
# Below this, every transaction has ended: no row can still commit there (PostgreSQL).
XMIN_SQL = "pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
XMIN: ColumnElement[int] = literal_column(XMIN_SQL)
NOTIFY_CHANNEL = "pbx_changelog"


def postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _after(session: Session, cursor: Position) -> ColumnElement[bool]:
    """Rows after the cursor (whether readable yet or not)."""
    if postgres(session):
        return tuple_(OutboxEntry.txid, OutboxEntry.id) > tuple_(*cursor)
    return OutboxEntry.id > cursor[1]


def _readable(session: Session) -> ColumnElement[bool]:
    """Rows no late commit can come before: every transaction below xmin has ended."""
    return OutboxEntry.txid < XMIN if postgres(session) else true()


def _order(session: Session) -> tuple[Any, ...]:
    return (OutboxEntry.txid, OutboxEntry.id) if postgres(session) else (OutboxEntry.id,)


def position_of(row: OutboxEntry) -> Position:
    return (row.txid or 0, row.id)


@dataclass
class Batch:
    """What a run of change log rows asks of Asterisk, merged: one reload however many rows."""

    row_ids: list[int] = field(default_factory=list)
    end: Position | None = None  # the last row's position: the cursor once applied
    structure: bool = False
    number_ids: set[int] = field(default_factory=set)
    handset_ids: set[int] = field(default_factory=set)
    site_ids: set[int] = field(default_factory=set)  # R42: a site's voice portal number

    def __bool__(self) -> bool:
        return bool(self.row_ids)


# -- nodes and cursors ---------------------------------------------------------------
def load_node(session: Session, name: str) -> Node:
    """The node's row, created (cursor at the start, never synced) on its first run."""
    node = session.get(Node, name)
    if node is None:
        node = Node(name=name, cursor_txid=0, cursor_id=0, state=NodeState.SYNCING, refused="{}", last_seen_at=utcnow())
        session.add(node)
        session.flush()
    return node


def cursor_of(node: Node) -> Position:
    return (node.cursor_txid, node.cursor_id)


def head(session: Session) -> Position:
    """The cursor a full sync sets, read before its snapshot: every row at or before it has
    committed (so the snapshot read after holds its change), every later row will be read.

    PostgreSQL: (xmin, 0), all transactions below xmin have ended; SQLite: the highest id."""
    if postgres(session):
        return (int(session.scalar(select(XMIN)) or 0), 0)
    return (0, int(session.scalar(select(func.max(OutboxEntry.id))) or 0))


def beat(session: Session, name: str, state: NodeState | None = None, error: str | None = None) -> Node:
    node = load_node(session, name)
    node.last_seen_at = utcnow()
    if state is not None:
        node.state = state
    if error is not None:
        node.last_error = error
    return node


def has_pending(session: Session, name: str | None = None) -> bool:
    """Is a change waiting for the node (None: for any node in service, or is there no node yet)?"""
    nodes = [n for n in [session.get(Node, name)] if n] if name else _in_service(session, None)
    if not nodes:
        return True
    cursor = min(cursor_of(n) for n in nodes)
    return session.scalar(select(OutboxEntry.id).where(_after(session, cursor)).limit(1)) is not None


def behind(session: Session, node: Node) -> int:
    """How many rows the node has still to apply (its progress while catching up)."""
    return int(
        session.scalar(select(func.count()).select_from(OutboxEntry).where(_after(session, cursor_of(node)))) or 0
    )


# -- reading ------------------------------------------------------------------------------
def oldest_waiting_age(session: Session) -> timedelta | None:
    """R46: how long the oldest change some live node has not applied yet has waited; None when none.

    Live nodes are those seen within the heartbeat window; with none, no change can be applied, so the
    oldest change after any node's cursor counts (no agent at all shows as a growing lag)."""
    seen = utcnow() - HEARTBEAT_WINDOW
    nodes = [n for n in session.scalars(select(Node)) if _aware(n.last_seen_at) >= seen] or list(
        session.scalars(select(Node))
    )
    cursor = min((cursor_of(n) for n in nodes), default=(0, 0))
    oldest = session.scalar(select(func.min(OutboxEntry.created_at)).where(_after(session, cursor)))
    if oldest is None:
        return None
    return max(timedelta(0), utcnow() - _aware(oldest))


class WaitingProbe:
    """The agent's idle poll, 200 times a second: is a row waiting after this cursor?

    One indexed query on one raw DB-API connection kept open: about 30 us a poll, where an
    ORM session costs 280 us (6% of a core at this rate, on a 2-core node shared with
    Asterisk). Any database error answers READY, so the ORM path that follows meets it
    and reports it properly. IN_FLIGHT (PostgreSQL): a row has committed after the cursor,
    but an older transaction is still open, so it cannot be read yet: poll again soon.
    """

    IDLE, READY, IN_FLIGHT = 0, 1, 2
    SQLITE = f"SELECT 1 FROM {OutboxEntry.__tablename__} WHERE id > ? LIMIT 1"
    POSTGRES = (
        f"SELECT txid < {XMIN_SQL} FROM {OutboxEntry.__tablename__} "
        "WHERE (txid, id) > (%s, %s) ORDER BY txid, id LIMIT 1"
    )

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"
        self.connection: Any = None

    def __call__(self, cursor: Position) -> int:
        try:
            if self.connection is None:
                self.connection = self.engine.raw_connection()
            db_cursor = self.connection.cursor()
            try:
                if self.postgres:
                    db_cursor.execute(self.POSTGRES, cursor)
                else:
                    db_cursor.execute(self.SQLITE, (cursor[1],))
                found = db_cursor.fetchone()
            finally:
                db_cursor.close()
            self.connection.rollback()  # end the read: the next poll sees new commits
            if found is None:
                return self.IDLE
            return self.READY if (not self.postgres or found[0]) else self.IN_FLIGHT
        except Exception:  # noqa: BLE001 (any driver's error: reconnect, and let the ORM report it)
            self.close()
            return self.READY

    def close(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(Exception):  # already broken
                self.connection.close()
            self.connection = None


def next_batch(session: Session, cursor: Position, limit: int | None = BATCH) -> Batch:
    """The readable rows after cursor, in log order, merged."""
    batch = Batch()
    rows = session.scalars(
        select(OutboxEntry).where(_after(session, cursor), _readable(session)).order_by(*_order(session)).limit(limit)
    )
    for row in rows:
        batch.row_ids.append(row.id)
        batch.end = position_of(row)
        if row.kind is OutboxKind.STRUCTURE:
            batch.structure = True
        elif row.kind is OutboxKind.NUMBER and row.subject_id is not None:
            batch.number_ids.add(row.subject_id)
        elif row.kind is OutboxKind.HANDSET and row.subject_id is not None:
            batch.handset_ids.add(row.subject_id)
        elif row.kind is OutboxKind.SITE and row.subject_id is not None:
            batch.site_ids.add(row.subject_id)
    return batch


def wanted_keys(session: Session, batch: Batch) -> tuple[dict[str, str], list[str]]:
    """The keys to put for the batch's numbers and handsets, and the number trees to delete."""
    keys: dict[str, str] = {}
    gone: list[str] = []
    found = set()
    if batch.number_ids:
        # One joined query: this runs for every change, inside the 50 ms goal.
        numbers = session.scalars(
            select(PhoneNumber)
            .where(PhoneNumber.id.in_(batch.number_ids))
            .options(
                joinedload(PhoneNumber.user),
                joinedload(PhoneNumber.handset),
                joinedload(PhoneNumber.occupier),
                joinedload(PhoneNumber.site),
                joinedload(PhoneNumber.conference),
                *(
                    joinedload(PhoneNumber.features).joinedload(getattr(NumberFeatures, related(f)))
                    for f in of_kind(Kind.NUMBER)
                ),
            )
        ).unique()
        for number in numbers:
            found.add(number.id)
            if not is_live(number):
                gone.append(f"num/{number.id}")
            else:
                keys.update(number_keys(number_view(number)))
    gone.extend(f"num/{number_id}" for number_id in batch.number_ids - found)
    if batch.handset_ids:
        for handset in session.scalars(select(Handset).where(Handset.id.in_(batch.handset_ids))):
            keys.update(handset_keys(handset_view(handset)))
    if batch.site_ids:
        for site in session.scalars(select(Site).where(Site.id.in_(batch.site_ids))):
            keys.update(site_keys(SiteView(site.id, site.country, site.portal_number)))
    return keys, gone


# -- closing: the cursor moves after applying, and numbers are settled -------------------------
def close_batch(session: Session, name: str, batch: Batch, errors: Mapping[int, str] | None = None) -> None:
    """The node has applied the batch: its cursor moves past it; each number is then settled
    (errors: number id -> why it is not live on this node)."""
    errors = errors or {}
    nodes = _lock_nodes(session)
    node = load_node(session, name)
    if batch.end is not None:
        node.cursor_txid, node.cursor_id = batch.end
    node.last_seen_at = node.last_applied_at = utcnow()
    refused = {int(k): v for k, v in json.loads(node.refused or "{}").items()}
    for number_id in batch.number_ids:
        refused.pop(number_id, None)
    refused.update(errors)
    node.refused = json.dumps(refused)
    node.last_error = next(iter(errors.values()), None)
    counted = _counted(_after_write(session, nodes), node)
    for ids in _chunks(sorted(batch.number_ids | set(errors))):
        _settle(
            session.scalars(select(PhoneNumber).where(PhoneNumber.id.in_(ids))),
            _waiting_numbers(session, counted),
            _refusals(counted),
        )


def close_full_sync(
    session: Session, name: str, cursor: Position, token: str, errors: Mapping[int, str] | None = None
) -> None:
    """After a full sync from a snapshot read after `cursor`: the node holds everything up to it."""
    errors = errors or {}
    nodes = _lock_nodes(session)
    node = load_node(session, name)
    node.cursor_txid, node.cursor_id = cursor
    node.sync_token = token
    node.last_seen_at = node.last_applied_at = utcnow()
    node.refused = json.dumps(dict(errors))
    node.last_error = next(iter(errors.values()), None)
    counted = _counted(_after_write(session, nodes), node)
    refusals = _refusals(counted)
    candidates = session.scalars(
        select(PhoneNumber).where(
            or_(
                PhoneNumber.status == NumberStatus.PENDING,
                PhoneNumber.last_error.is_not(None),
                PhoneNumber.id.in_(list(refusals)),
            )
        )
    )
    _settle(candidates, _waiting_numbers(session, counted), refusals)


def note_failure(session: Session, name: str, batch: Batch, error: str) -> None:
    """A try that did not reach Asterisk: the cursor stays, so the rows wait for the next one."""
    beat(session, name, error=error)


def _lock_nodes(session: Session) -> list[Node]:
    """Every node, locked in name order (PostgreSQL): two agents closing at once settle one after
    the other, so the last one sees both cursors and no number is left Pending for ever."""
    return list(session.scalars(select(Node).order_by(Node.name).with_for_update()))


def _after_write(session: Session, locked: list[Node]) -> list[Node]:
    """Every node as committed now: read again once this node's own write is flushed. On SQLite
    that write takes the one write lock, so no other agent can close a batch in between; on
    PostgreSQL the rows are already locked (_lock_nodes)."""
    session.flush()
    if postgres(session):
        return locked
    return list(session.scalars(select(Node).order_by(Node.name).execution_options(populate_existing=True)))


def _in_service(session: Session, now: datetime | None) -> list[Node]:
    seen = (now or utcnow()) - HEARTBEAT_WINDOW
    return list(session.scalars(select(Node).where(Node.state == NodeState.IN_SERVICE, Node.last_seen_at >= seen)))


def _counted(nodes: Sequence[Node], me: Node) -> list[Node]:
    """The nodes a number waits for: this one, and every node in service seen lately."""
    seen = utcnow() - HEARTBEAT_WINDOW
    others = [
        n for n in nodes if n.name != me.name and n.state is NodeState.IN_SERVICE and _aware(n.last_seen_at) >= seen
    ]
    return [me, *others]


def _aware(moment: datetime) -> datetime:
    """SQLite gives back naive datetimes (stored as UTC)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _waiting_numbers(session: Session, nodes: Sequence[Node]) -> set[int]:
    """Numbers with a change after the cursor of any of the nodes."""
    if not nodes:
        return set()
    lowest = min(cursor_of(n) for n in nodes)
    waiting = set()
    for txid, row_id, subject_id in session.execute(
        select(OutboxEntry.txid, OutboxEntry.id, OutboxEntry.subject_id).where(
            _after(session, lowest), OutboxEntry.kind == OutboxKind.NUMBER
        )
    ):
        position = (txid or 0, row_id)
        if subject_id is not None and any(_later(session, position, cursor_of(n)) for n in nodes):
            waiting.add(subject_id)
    return waiting


def _later(session: Session, position: Position, cursor: Position) -> bool:
    return position > cursor if postgres(session) else position[1] > cursor[1]


def _refusals(nodes: Sequence[Node]) -> dict[int, str]:
    refused: dict[int, str] = {}
    for node in sorted(nodes, key=lambda n: n.name):
        for number_id, reason in json.loads(node.refused or "{}").items():
            refused.setdefault(int(number_id), reason)
    return refused


def _settle(numbers: Iterable[PhoneNumber], waiting: set[int], refused: Mapping[int, str]) -> None:
    """R4: Active when no counted node waits for it and none refused it; Pending with the reason otherwise."""
    for number in numbers:
        if number.status is NumberStatus.RESERVED:
            number.last_error = None
        elif number.id in refused:
            number.status = NumberStatus.PENDING
            number.last_error = refused[number.id]
        elif number.id not in waiting:
            number.status = NumberStatus.ACTIVE
            number.last_error = None


def _chunks(ids: list[int], size: int = IN_LIST_MAX) -> Iterable[list[int]]:
    """A full sync settles tens of thousands of numbers; SQLite takes at most 32,766 parameters."""
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


# -- pruning -----------------------------------------------------------------------------------
def prune_applied(
    session: Session, older_than: datetime, limit: int = PRUNE_BATCH, forgotten: Callable[[str], None] | None = None
) -> int:
    """Delete at most limit rows, oldest first, that are older than older_than and applied by every
    node seen since older_than; the number deleted.

    A node not seen since older_than is forgotten first (its row deleted): it never holds the log
    back for ever, and having no cursor it full-syncs when it returns. The newest row is always
    kept: on SQLite a deleted highest id would be given again, behind the cursors."""
    for node in session.scalars(select(Node).where(Node.last_seen_at < older_than)):
        if forgotten is not None:
            forgotten(node.name)
        session.delete(node)
    session.flush()
    cursors = [cursor_of(n) for n in session.scalars(select(Node))]
    newest = session.scalar(select(func.max(OutboxEntry.id)))
    where = [OutboxEntry.created_at < older_than, OutboxEntry.id != newest]
    if cursors:
        where.append(~_after(session, min(cursors)))
    ids = list(session.scalars(select(OutboxEntry.id).where(*where).order_by(*_order(session)).limit(limit)))
    if ids:
        session.execute(delete(OutboxEntry).where(OutboxEntry.id.in_(ids)).execution_options(synchronize_session=False))
    return len(ids)
