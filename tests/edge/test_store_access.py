"""The credentials view as Kamailio reads it: SQLite in WAL mode while another
process writes, and PostgreSQL (db_postgres) for production."""

from __future__ import annotations

import sqlite3

from tests.postgres_server import fresh_database

from .conftest import EDGE_1, Edges, Store
from .harness import register


def test_sqlite_reader_is_not_blocked_by_an_open_write(store, edges):
    store.add_handset("alice", "alice-secret")
    edges.start("edge1", EDGE_1)
    writer = sqlite3.connect(store.url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        assert writer.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        writer.execute("BEGIN IMMEDIATE")  # the write lock, held
        site = writer.execute("SELECT id FROM site").fetchone()[0]
        writer.execute("INSERT INTO handset (phone_id, site_id, sip_password) VALUES ('carol', ?, 'c-pw')", (site,))
        assert register("alice", "alice-secret", ip="127.0.1.51", edge=EDGE_1).ok  # not blocked
        assert register("carol", "c-pw", ip="127.0.1.52", edge=EDGE_1).statuses == [401, 403]  # not yet
        writer.execute("COMMIT")
        assert register("carol", "c-pw", ip="127.0.1.52", edge=EDGE_1).ok
    finally:
        writer.close()


def test_postgres_credentials(postgres_url, tmp_path):
    url = fresh_database(postgres_url, "pbx_edge")
    store = Store(url)
    edges = Edges(url)
    try:
        store.add_handset("alice", "alice-secret")
        edges.start("edge1", EDGE_1)
        assert register("alice", "alice-secret", ip="127.0.1.51", edge=EDGE_1).ok
        assert register("alice", "guess", ip="127.0.1.51", edge=EDGE_1).statuses == [401, 403]
        store.add_handset("bob", "bob-secret")
        assert register("bob", "bob-secret", ip="127.0.1.53", edge=EDGE_1).ok
    finally:
        edges.stop_all(keep_logs_in=tmp_path)
        store.close()
