"""The change log's order is safe against late commits, on SQLite and PostgreSQL, and a number
is Active only once every node in service has applied its latest change (R4 with N nodes)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import OperationalError

from pbx.asterisk import outbox
from pbx.services import features
from pbx.services.actor import Actor
from pbx.store import (
    NodeState,
    NumberStatus,
    OutboxEntry,
    OutboxKind,
    PhoneNumber,
    make_engine,
    make_session_factory,
    transaction,
)
from pbx.store.migrate import upgrade
from pbx.store.models import utcnow
from tests.postgres_server import database_name, fresh_database

ALICE = "+442079460201"


def add_row(session, subject_id: int) -> int:
    row = OutboxEntry(kind=OutboxKind.NUMBER, subject_id=subject_id)
    session.add(row)
    session.flush()
    return row.id


def read_all(factory, cursor: outbox.Position) -> tuple[list[int], outbox.Position]:
    """What an agent reads from cursor on, and where its cursor ends."""
    seen = []
    while True:
        with transaction(factory) as session:
            batch = outbox.next_batch(session, cursor, limit=1)
        if not batch:
            return seen, cursor
        seen += batch.row_ids
        cursor = batch.end


def test_rows_carry_the_writers_transaction_id_on_postgresql_and_read_in_commit_order(factory):
    with transaction(factory) as session:
        first, second = add_row(session, 1), add_row(session, 2)
    with transaction(factory) as session:
        third = add_row(session, 3)
        rows = {r.id: r for r in session.scalars(select(OutboxEntry))}
        if session.get_bind().dialect.name == "postgresql":
            assert rows[first].txid == rows[second].txid < rows[third].txid  # a server default: no code sets it
        else:
            assert rows[first].txid is None  # SQLite: the id is the order
    seen, cursor = read_all(factory, outbox.START)
    assert seen == [first, second, third] and cursor[1] == third
    assert read_all(factory, cursor) == ([], cursor)


@pytest.fixture
def pg_factory(postgres_url, tmp_path):
    """A migrated store on the session's PostgreSQL: the late-commit case exists only there."""
    url = fresh_database(postgres_url, database_name(tmp_path))
    upgrade(url)
    engine = make_engine(url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def sqlite_url(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    upgrade(url)
    return url


@pytest.mark.parametrize("xid_first", ["lower_id", "higher_id"])
def test_postgresql_a_row_committed_late_behind_a_newer_id_is_not_skipped(pg_factory, xid_first):
    """Transaction A takes the lower id and commits last; B commits first. A plain `id > cursor`
    reader skips A's row (shown below); the agent's (txid, id) reader below xmin does not."""
    factory = pg_factory
    a, b = factory(), factory()
    try:
        if xid_first == "higher_id":  # B holds the older transaction id, but takes its row id later
            b.execute(text("SELECT pg_current_xact_id()"))
        late = add_row(a, 1)
        early = add_row(b, 2)
        assert late < early
        b.commit()
        naive = [r for r in outbox_ids_after(factory, 0)]
        seen, cursor = read_all(factory, outbox.START)
        if xid_first == "lower_id":
            assert seen == []  # B's row waits: A, older, may still commit before it in the log
        else:
            assert seen == [early]  # B is older than A: its row is before anything A can add
        a.commit()
        more, cursor = read_all(factory, cursor)
        assert sorted(seen + more) == [late, early] and len(seen + more) == 2  # nothing lost, nothing twice
        assert naive == [early] and outbox_ids_after(factory, max(naive)) == []  # id > cursor loses A's row
    finally:
        a.close()
        b.close()


def outbox_ids_after(factory, last_id: int) -> list[int]:
    with transaction(factory) as session:
        return list(session.scalars(select(OutboxEntry.id).where(OutboxEntry.id > last_id).order_by(OutboxEntry.id)))


def test_sqlite_ids_are_taken_inside_the_one_write_lock_so_commit_order_is_id_order(sqlite_url):
    """While a writer holds an uncommitted row, no other writer can take an id (nor commit): so an id
    can never commit behind a higher one already read."""
    db_url = sqlite_url
    engine = make_engine(db_url)
    factory = make_session_factory(engine)
    impatient = create_engine(db_url, connect_args={"timeout": 0.2})
    a = factory()
    try:
        first = add_row(a, 1)  # holds the write lock until commit
        with pytest.raises(OperationalError, match="locked"), impatient.begin() as connection:
            connection.execute(
                text("INSERT INTO outbox (created_at, kind, subject_id) VALUES (CURRENT_TIMESTAMP, 'number', 2)")
            )
        a.commit()
        with impatient.begin() as connection:
            connection.execute(
                text("INSERT INTO outbox (created_at, kind, subject_id) VALUES (CURRENT_TIMESTAMP, 'number', 2)")
            )
        seen, _ = read_all(factory, outbox.START)
        assert seen[0] == first and seen[1] > first
    finally:
        a.close()
        impatient.dispose()
        engine.dispose()


# -- R4 with N nodes ------------------------------------------------------------------------------
def alice(session) -> PhoneNumber:
    return session.scalar(select(PhoneNumber).where(PhoneNumber.e164 == ALICE))


def status(factory) -> tuple[NumberStatus, str | None]:
    with transaction(factory) as session:
        number = alice(session)
        return number.status, number.last_error


def node_at_head(
    factory, name: str, state: NodeState = NodeState.IN_SERVICE, seen_ago: timedelta = timedelta(0)
) -> None:
    with transaction(factory) as session:
        node = outbox.load_node(session, name)
        node.cursor_txid, node.cursor_id = outbox.head(session)
        node.state, node.last_seen_at = state, utcnow() - seen_ago


def apply(factory, name: str, errors: dict | None = None) -> None:
    """What node `name`'s agent does once its Asterisk took (or refused) every waiting change."""
    with transaction(factory) as session:
        batch = outbox.next_batch(session, outbox.cursor_of(outbox.load_node(session, name)), limit=None)
        number_ids = batch.number_ids
        outbox.close_batch(session, name, batch, {n: errors for n in number_ids} if errors else None)


def change_alice(factory, **changes) -> None:
    with transaction(factory) as session:
        features.update_features(session, Actor.system("test"), alice(session).id, changes)


def test_r4_a_number_is_pending_until_every_node_in_service_has_applied_its_change(demo_factory):
    factory = demo_factory
    node_at_head(factory, "node-1")
    node_at_head(factory, "node-2")
    node_at_head(factory, "catching-up", NodeState.CATCHING_UP)  # not given calls: not waited for
    node_at_head(factory, "silent", seen_ago=timedelta(minutes=5))  # its agent died: not waited for
    change_alice(factory, dnd="on")
    assert status(factory) == (NumberStatus.PENDING, None)
    apply(factory, "node-1")
    assert status(factory) == (NumberStatus.PENDING, None)  # node-2 has not applied it yet
    apply(factory, "node-2")
    assert status(factory) == (NumberStatus.ACTIVE, None)


def test_r4_a_refusal_on_one_node_keeps_the_number_pending_with_that_reason(demo_factory):
    factory = demo_factory
    node_at_head(factory, "node-1")
    node_at_head(factory, "node-2")
    change_alice(factory, dnd="on")
    apply(factory, "node-2", errors="Asterisk refused the change: DBPut failed")
    apply(factory, "node-1")  # applies it fine, but node-2 still has it not live
    assert status(factory) == (NumberStatus.PENDING, "Asterisk refused the change: DBPut failed")
    with transaction(factory) as session:  # node-2's retry (a full sync) takes it
        outbox.close_full_sync(session, "node-2", outbox.head(session), "token")
    assert status(factory) == (NumberStatus.ACTIVE, None)


def test_pending_counts_rows_after_the_cursor_for_the_cli_and_the_bench(demo_factory):
    factory = demo_factory
    with transaction(factory) as session:
        assert outbox.has_pending(session)  # no node in service yet
    node_at_head(factory, "node-1")
    with transaction(factory) as session:
        assert not outbox.has_pending(session) and not outbox.has_pending(session, "node-1")
    change_alice(factory, dnd="on")
    with transaction(factory) as session:
        assert outbox.has_pending(session, "node-1")
        assert outbox.behind(session, outbox.load_node(session, "node-1")) == 1
    apply(factory, "node-1")
    with transaction(factory) as session:
        assert not outbox.has_pending(session, "node-1")
