"""The controller: applies the outbox to Asterisk and keeps Asterisk equal to the store.

On every (re)connect, and whenever Asterisk reports FullyBooted, it rewrites the
whole state from the store (idempotent); in between it applies outbox rows as they
come. While Asterisk is away, changes wait in the outbox, Pending, and nothing is lost.
"""
from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from pbx.asterisk import outbox, sync
from pbx.asterisk.ami import Ami, AmiError
from pbx.asterisk.live_state import FAMILY, live_state
from pbx.asterisk.render import render
from pbx.asterisk.snapshot import load_snapshot
from pbx.settings import Settings
from pbx.store.db import transaction

log = logging.getLogger("pbx.controller")
POLL_S = 0.005  # outbox poll: a cheap indexed query, well inside the 50 ms goal
BACKOFF_MIN_S, BACKOFF_MAX_S = 0.2, 5.0


class Controller:
    def __init__(self, settings: Settings, factory: sessionmaker[Session], etc_dir: Path) -> None:
        self.settings = settings
        self.factory = factory
        self.etc_dir = etc_dir
        self._resync = asyncio.Event()
        self.synced = asyncio.Event()  # set after each full sync: tests and `pbx up` wait on it

    async def run(self, stop: asyncio.Event) -> None:
        backoff = BACKOFF_MIN_S
        while not stop.is_set():
            try:
                ami = await Ami.connect(self.settings)
            except AmiError as error:
                log.info("Asterisk not reachable (%s); retrying in %.1fs", error, backoff)
                await _sleep_or_stop(stop, backoff)
                backoff = min(backoff * 2, BACKOFF_MAX_S)
                continue
            backoff = BACKOFF_MIN_S
            ami.on_event("FullyBooted", lambda *_: self._resync.set())
            try:
                await self._serve(ami, stop)
            except (AmiError, OSError, ConnectionError, asyncio.TimeoutError, asyncio.CancelledError) as error:
                if isinstance(error, asyncio.CancelledError) and stop.is_set():
                    raise
                log.warning("lost Asterisk (%r); reconnecting", error)
            finally:
                await ami.close()

    async def _serve(self, ami: Ami, stop: asyncio.Event) -> None:
        self._resync.set()
        while not stop.is_set():
            if self._resync.is_set():
                self._resync.clear()
                await self.full_sync(ami)
            if not await self.apply_outbox(ami):
                await _sleep_or_stop(stop, POLL_S)

    async def full_sync(self, ami: Ami) -> None:
        with transaction(self.factory) as session:
            snapshot = load_snapshot(session)
            # Every change queued so far is in this snapshot, so the sync applies it.
            batch = outbox.next_batch(session, limit=None)
        await sync.apply_files(ami, self.etc_dir, render(snapshot, self.settings))
        put, deleted = await sync.push_live_state(ami, live_state(snapshot))
        with transaction(self.factory) as session:
            outbox.close_batch(session, batch)
        log.info("full sync: %d keys put, %d deleted", put, deleted)
        self.synced.set()

    async def apply_outbox(self, ami: Ami) -> bool:
        """Apply one merged batch of waiting changes; False when there was nothing to do."""
        with transaction(self.factory) as session:
            batch = outbox.next_batch(session)
            if not batch:
                return False
            files = render(load_snapshot(session), self.settings) if batch.structure else None
            keys, gone = outbox.wanted_keys(session, batch)
        try:
            if files is not None:
                await sync.apply_files(ami, self.etc_dir, files)
            await sync.put_keys(ami, keys)
            for tree in gone:
                await ami.db_deltree(FAMILY, tree)  # an absent tree counts as deleted
        except AmiError as error:
            # Asterisk answered but refused: keep the intent, say why, do not retry forever.
            with transaction(self.factory) as session:
                outbox.close_batch(session, batch, error=f"Asterisk refused the change: {error}")
            return True
        with transaction(self.factory) as session:
            outbox.close_batch(session, batch)
        return True


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except asyncio.TimeoutError:
        pass
