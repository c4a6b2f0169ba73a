"""Change log rows are pruned after a retention once every node has applied them; the audit log is kept."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from pbx.asterisk import controller as controller_module
from pbx.asterisk import outbox
from pbx.asterisk.controller import Controller
from pbx.settings import Settings
from pbx.store import AuditEntry, Node, OutboxEntry, OutboxKind, transaction
from pbx.store.models import utcnow

DAY = timedelta(days=1)


def add_rows(factory, *ages: timedelta) -> list[int]:
    """Rows created this long ago, in log order (one transaction each, oldest first)."""
    now = utcnow()
    ids = []
    for age in ages:
        with transaction(factory) as session:
            row = OutboxEntry(kind=OutboxKind.NUMBER, subject_id=None, created_at=now - age)
            session.add(row)
            session.add(AuditEntry(actor="system", action="number.features", at=now - 30 * DAY))
            session.flush()
            ids.append(row.id)
    return ids


def position(factory, row_id: int) -> outbox.Position:
    with transaction(factory) as session:
        return outbox.position_of(session.get(OutboxEntry, row_id))


def set_node(factory, name: str, cursor: outbox.Position, seen_ago: timedelta = timedelta(0)) -> None:
    with transaction(factory) as session:
        node = outbox.load_node(session, name)
        node.cursor_txid, node.cursor_id = cursor
        node.last_seen_at = utcnow() - seen_ago


def remaining(factory, ids: list[int]) -> list[int]:
    with transaction(factory) as session:
        kept = set(session.scalars(select(OutboxEntry.id).where(OutboxEntry.id.in_(ids))))
    return [i for i in ids if i in kept]


def nodes(factory) -> set[str]:
    with transaction(factory) as session:
        return set(session.scalars(select(Node.name)))


def prune(factory, limit: int = outbox.PRUNE_BATCH) -> int:
    with transaction(factory) as session:
        return outbox.prune_applied(session, utcnow() - outbox.APPLIED_RETENTION, limit)


def audit_count(factory) -> int:
    with transaction(factory) as session:
        return session.scalar(select(func.count()).select_from(AuditEntry))


def test_old_rows_every_node_applied_go_recent_and_unapplied_ones_stay_and_the_audit_log_is_kept(factory):
    a, b, c, d, e = add_rows(factory, 30 * DAY, 20 * DAY, 10 * DAY, 9 * DAY, 1 * DAY)
    set_node(factory, "node-1", position(factory, e))  # has applied everything
    set_node(factory, "node-2", position(factory, b))  # has applied a and b only
    audit_before = audit_count(factory)

    assert prune(factory) == 2
    assert remaining(factory, [a, b, c, d, e]) == [c, d, e]  # c, d: old, but node-2 still needs them
    set_node(factory, "node-2", position(factory, e))
    assert prune(factory) == 2
    assert remaining(factory, [a, b, c, d, e]) == [e]  # recent: kept for the retention
    assert audit_count(factory) == audit_before


def test_a_node_not_seen_for_the_retention_is_forgotten_and_no_longer_holds_the_log(factory):
    a, b, c = add_rows(factory, 30 * DAY, 20 * DAY, 1 * DAY)
    set_node(factory, "node-1", position(factory, c))
    set_node(factory, "gone", outbox.START, seen_ago=8 * DAY)  # vanished with nothing applied
    set_node(factory, "away", outbox.START, seen_ago=2 * DAY)  # down two days: kept, holds the log

    assert prune(factory) == 0
    assert nodes(factory) == {"node-1", "away"}  # a returning "gone" has no cursor: it full-syncs
    set_node(factory, "away", position(factory, c))
    assert prune(factory) == 2 and remaining(factory, [a, b, c]) == [c]


def test_the_newest_row_is_always_kept_so_sqlite_never_gives_its_id_again(factory):
    a, b = add_rows(factory, 30 * DAY, 20 * DAY)
    set_node(factory, "node-1", position(factory, b))
    assert prune(factory) == 1 and remaining(factory, [a, b]) == [b]
    (c,) = add_rows(factory, timedelta(0))
    assert c > b  # past the node's cursor: it will be read


def test_pruning_is_bounded_and_takes_the_oldest_first(factory):
    ids = add_rows(factory, 40 * DAY, 30 * DAY, 20 * DAY, timedelta(0))
    set_node(factory, "node-1", position(factory, ids[-1]))
    assert prune(factory, limit=2) == 2
    assert remaining(factory, ids) == ids[2:]


def test_the_controller_prunes_at_most_once_an_hour_unless_a_backlog_remains(factory, monkeypatch):
    monkeypatch.setattr(outbox, "PRUNE_BATCH", 2)
    ids = add_rows(factory, 40 * DAY, 30 * DAY, 20 * DAY, timedelta(0))
    set_node(factory, "node-1", position(factory, ids[-1]))
    controller = Controller(Settings.from_env(), factory)
    clock = [1000.0]
    monkeypatch.setattr(controller_module.time, "monotonic", lambda: clock[0])

    first = controller.prune_outbox()  # a full batch: more may wait, the next one comes soon
    clock[0] += controller_module.PRUNE_BACKLOG_S
    second = controller.prune_outbox()
    late = add_rows(factory, 10 * DAY, timedelta(0))
    set_node(factory, "node-1", position(factory, late[-1]))
    clock[0] += controller_module.PRUNE_EVERY_S - 1
    not_yet = controller.prune_outbox()
    clock[0] += 1
    due = controller.prune_outbox()

    assert (first, second, not_yet, due) == (2, 1, 0, 1)
    assert remaining(factory, ids + late) == [ids[-1], late[-1]]  # recent ones only
