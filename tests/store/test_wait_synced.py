"""`pbx up` waits for a big first sync while it makes progress, and fails only when it stalls."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import click
import pytest

from pbx.asterisk import outbox
from pbx.cli.system import _wait_until_synced
from pbx.settings import Settings
from pbx.store import NodeState, transaction

STALL_S = 0.6


def app_for(factory, tmp_path):
    return SimpleNamespace(factory=factory, settings=Settings.from_env({"PBX_STATE_DIR": str(tmp_path)}))


def report(factory, progress: str | None, state: NodeState = NodeState.SYNCING) -> None:
    with transaction(factory) as session:
        node = outbox.beat(session, "node-1", state)
        node.progress = progress
        if state is NodeState.IN_SERVICE:
            node.cursor_txid, node.cursor_id = outbox.head(session)


def test_a_sync_longer_than_the_stall_bound_is_waited_for_while_it_moves(factory, tmp_path):
    lines: list[str] = []

    def agent() -> None:  # 3 stall periods of progress, then in service
        for step in range(6):
            report(factory, f"putting keys {step * 1000}/6000")
            time.sleep(STALL_S / 2)
        report(factory, None, NodeState.IN_SERVICE)

    thread = threading.Thread(target=agent)
    started = time.monotonic()
    thread.start()
    try:
        _wait_until_synced(app_for(factory, tmp_path), stall=STALL_S, bound=30, echo=lines.append)
    finally:
        thread.join()
    assert time.monotonic() - started > 2 * STALL_S
    assert lines[0] == "controller: putting keys 0/6000" and len(lines) >= 5


def test_a_sync_that_stops_moving_fails_after_the_stall_bound(factory, tmp_path):
    report(factory, "putting keys 1000/6000")
    started = time.monotonic()
    with pytest.raises(click.ClickException, match="no progress"):
        _wait_until_synced(app_for(factory, tmp_path), stall=STALL_S, bound=30, echo=lambda _: None)
    assert time.monotonic() - started < 5
