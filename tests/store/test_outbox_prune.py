"""Applied outbox rows are pruned after a retention; waiting rows and the audit log are kept."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from pbx.asterisk import controller as controller_module
from pbx.asterisk import outbox
from pbx.asterisk.controller import Controller
from pbx.settings import Settings
from pbx.store import AuditEntry, OutboxEntry, OutboxKind, transaction
from pbx.store.models import utcnow

DAY = timedelta(days=1)


def add_rows(factory, **ages: tuple[timedelta, timedelta | None]) -> dict[str, int]:
    """Outbox rows by name: (created this long ago, applied this long ago or None for still waiting)."""
    now = utcnow()
    with transaction(factory) as session:
        rows = {name: OutboxEntry(kind=OutboxKind.NUMBER, subject_id=None, created_at=now - created,
                                  applied_at=None if applied is None else now - applied)
                for name, (created, applied) in ages.items()}
        session.add_all(rows.values())
        session.add(AuditEntry(actor="system", action="number.features", at=now - 30 * DAY))
        session.flush()
        return {name: row.id for name, row in rows.items()}


def remaining(factory, ids: dict[str, int]) -> set[str]:
    with transaction(factory) as session:
        kept = set(session.scalars(select(OutboxEntry.id).where(OutboxEntry.id.in_(ids.values()))))
    return {name for name, row_id in ids.items() if row_id in kept}


def audit_count(factory) -> int:
    with transaction(factory) as session:
        return session.scalar(select(func.count()).select_from(AuditEntry))


def test_old_applied_rows_go_recent_and_waiting_ones_stay_and_the_audit_log_is_kept(factory):
    ids = add_rows(factory, old_applied=(9 * DAY, 8 * DAY), recent_applied=(2 * DAY, 1 * DAY),
                   old_waiting=(30 * DAY, None), new_waiting=(timedelta(0), None))
    audit_before = audit_count(factory)

    with transaction(factory) as session:
        pruned = outbox.prune_applied(session, utcnow() - outbox.APPLIED_RETENTION)

    assert pruned == 1
    assert remaining(factory, ids) == {"recent_applied", "old_waiting", "new_waiting"}
    assert audit_count(factory) == audit_before


def test_pruning_is_bounded_and_takes_the_oldest_first(factory):
    ids = add_rows(factory, oldest=(40 * DAY, 40 * DAY), older=(30 * DAY, 30 * DAY), old=(20 * DAY, 20 * DAY))

    with transaction(factory) as session:
        pruned = outbox.prune_applied(session, utcnow() - outbox.APPLIED_RETENTION, limit=2)

    assert pruned == 2
    assert remaining(factory, ids) == {"old"}


def test_the_controller_prunes_at_most_once_an_hour_unless_a_backlog_remains(factory, monkeypatch):
    monkeypatch.setattr(outbox, "PRUNE_BATCH", 2)
    ids = add_rows(factory, a=(40 * DAY, 40 * DAY), b=(30 * DAY, 30 * DAY), c=(20 * DAY, 20 * DAY))
    controller = Controller(Settings.from_env(), factory)
    clock = [1000.0]
    monkeypatch.setattr(controller_module.time, "monotonic", lambda: clock[0])

    first = controller.prune_outbox()  # a full batch: more may wait, the next one comes soon
    clock[0] += controller_module.PRUNE_BACKLOG_S
    second = controller.prune_outbox()
    late = add_rows(factory, d=(10 * DAY, 10 * DAY))
    clock[0] += controller_module.PRUNE_EVERY_S - 1
    not_yet = controller.prune_outbox()
    clock[0] += 1
    due = controller.prune_outbox()

    assert (first, second, not_yet, due) == (2, 1, 0, 1)
    assert remaining(factory, {**ids, **late}) == set()
