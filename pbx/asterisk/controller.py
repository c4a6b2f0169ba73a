"""The controller: applies the outbox to Asterisk and keeps Asterisk equal to the store.

On every (re)connect it waits for Asterisk to be fully booted, then rewrites the
whole state from the store (idempotent: a second sync puts nothing); in between it
applies outbox rows as they come (R33: AstDB puts, no reload). While Asterisk is away,
changes wait in the outbox, Pending, and nothing is lost. What Asterisk refuses is
recorded on the number (last_error, still Pending) and retried with back-off.
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from pbx.asterisk import outbox, routing, sync
from pbx.asterisk.ami import Ami, AmiError
from pbx.asterisk.handset_label import push_labels
from pbx.asterisk.live_state import FAMILY, live_state
from pbx.asterisk.local import asterisk_folders
from pbx.asterisk.reconnect import Backoff, sleep_or_stop
from pbx.asterisk.render import render
from pbx.asterisk.snapshot import load_snapshot
from pbx.settings import Settings
from pbx.store.db import transaction
from pbx.store.models import utcnow

log = logging.getLogger("pbx.controller")
POLL_S = 0.005  # outbox poll: a cheap indexed query, well inside the 50 ms goal
BACKOFF_MIN_S, BACKOFF_MAX_S = 0.2, 5.0  # reconnecting while Asterisk is away
RETRY_MIN_S, RETRY_MAX_S = 1.0, 60.0  # re-trying what Asterisk refused
LINE_BREAK = "a value with a line break cannot be sent to Asterisk ({keys})"
PRUNE_EVERY_S = 3600.0  # old applied outbox rows go at most once an hour...
PRUNE_BACKLOG_S = 1.0  # ...or a batch a second while a backlog of them remains


@dataclass
class SyncReport:
    """What one full sync changed in Asterisk: all zero when it already matched the store."""

    put: int = 0
    deleted: int = 0
    reloads: list[str] = field(default_factory=list)
    errors: dict[int, str] = field(default_factory=dict)  # number id -> why it is not live


class Controller:
    def __init__(self, settings: Settings, factory: sessionmaker[Session]) -> None:
        self.settings = settings
        self.factory = factory
        self.etc_dir = asterisk_folders(settings).etc  # where rendered config is written
        self._waiting = outbox.WaitingProbe(factory.kw["bind"])
        self._resync = asyncio.Event()
        self.synced = asyncio.Event()  # set after each full sync: tests and `pbx up` wait on it
        self.connects = 0  # AMI sessions opened, and full syncs run: tests see a reconnect here
        self.full_syncs = 0
        self._retry_at: float | None = None
        self._retry_s = RETRY_MIN_S
        self._prune_at = 0.0  # monotonic time of the next outbox prune

    async def run(self, stop: asyncio.Event) -> None:
        """Until stop: connect, full sync, apply the outbox; on any outage, back off and start over.

        An outage is Asterisk away or restarting, or the store unreachable (a database
        restart): the intent is safe in the store either way, so the loop only waits,
        doubling the wait while nothing succeeds."""
        backoff = Backoff(BACKOFF_MIN_S, BACKOFF_MAX_S)
        while not stop.is_set():
            try:
                ami = await Ami.connect(self.settings)
            except AmiError as error:
                log.info("Asterisk not reachable (%s); retrying in %.1fs", error, backoff.seconds)
                await backoff.wait(stop)
                continue
            self.connects += 1
            synced_before = self.full_syncs
            try:
                await self._serve(ami, stop)
            except (AmiError, OSError, ConnectionError, asyncio.TimeoutError, asyncio.CancelledError,
                    OperationalError, InterfaceError) as error:
                # panoramisk cancels the futures of a lost connection: that is not our stop.
                if isinstance(error, asyncio.CancelledError) and stop.is_set():
                    raise
                # A sync that worked since connecting means the outage is new: retry soon.
                if self.full_syncs > synced_before:
                    backoff.reset()
                else:
                    backoff.grow()
                log.warning("lost Asterisk or the store (%r); starting over in %.1fs", error, backoff.seconds)
                self._waiting.close()
                await sleep_or_stop(stop, backoff.seconds)
            finally:
                await ami.close()
        self._waiting.close()

    async def _serve(self, ami: Ami, stop: asyncio.Event) -> None:
        # AMI answers before the boot ends; a sync then could reload modules still loading.
        # Waiting here is FullyBooted made deterministic: the FullyBooted event itself comes
        # at login too, sometimes before a handler can be registered, sometimes after (a
        # second, useless sync). A restart always drops this connection, so each boot is
        # met here once.
        await ami.command("core waitfullybooted")
        self._resync.set()
        while not stop.is_set():
            if not ami.connected:  # noticed even when idle, so a restart is caught at once
                raise AmiError("AMI connection lost")
            if self._resync.is_set() or (self._retry_at is not None and time.monotonic() >= self._retry_at):
                self._resync.clear()
                await self.full_sync(ami)
            self.prune_outbox()
            if not await self.apply_outbox(ami):
                # The idle poll: a plain sleep, no task per wait (stop is seen next turn).
                await asyncio.sleep(POLL_S)

    async def full_sync(self, ami: Ami) -> SyncReport:
        """Make Asterisk equal to the store: files (targeted reloads) and every AstDB key (diffed)."""
        with transaction(self.factory) as session:
            # The rows first: each was committed before the snapshot is read, so the
            # snapshot holds its change (PostgreSQL reads at READ COMMITTED).
            batch = outbox.next_batch(session, limit=None)
            snapshot = load_snapshot(session)
        report = SyncReport()
        report.reloads = await sync.apply_files(ami, self.etc_dir, render(snapshot, self.settings))
        wanted, refused = sync.split_sendable(live_state(snapshot))
        report.errors = _line_break_errors(refused)
        current = await sync.current_live_state(ami)
        report.put, report.deleted = await sync.push_live_state(ami, wanted, keep=refused, current=current)
        # Screens follow a label or login changed while we were away; a wiped AstDB (a new
        # Asterisk) pushes nothing: its phones re-register and re-provision anyway.
        await push_labels(ami, label_changes({k: current[k] for k in wanted if k in current}, wanted),
                          self.settings)
        with transaction(self.factory) as session:
            outbox.close_batch(session, batch, report.errors)
            outbox.settle_all(session, report.errors)
        self._schedule_retry(report.errors)
        self.full_syncs += 1
        log.info("full sync: %d keys put, %d deleted, reloads %s, %d numbers refused",
                 report.put, report.deleted, report.reloads or "none", len(report.errors))
        self.synced.set()
        return report

    async def apply_outbox(self, ami: Ami) -> bool:
        """Apply one merged batch of waiting changes; False when there was nothing to do."""
        if not self._waiting():
            return False
        with transaction(self.factory) as session:
            batch = outbox.next_batch(session)
            if not batch:
                return False
            files = render(load_snapshot(session), self.settings) if batch.structure else None
            keys, gone = outbox.wanted_keys(session, batch)
        keys, line_breaks = sync.split_sendable(keys)
        errors = _line_break_errors(line_breaks)
        refused = ""
        try:
            if files is not None:
                await sync.apply_files(ami, self.etc_dir, files)
            before = await _label_state(ami, keys)
            stale = await routing.stale_routes(ami, batch.number_ids, keys)  # DIDs/extensions dropped
            await sync.put_keys(ami, keys)
            for tree in gone:
                await ami.db_deltree(FAMILY, tree)  # an absent tree counts as deleted
            await routing.delete_routes(ami, stale)
            await push_labels(ami, label_changes(before, keys), self.settings)  # R15: after the keys are live
        except AmiError as error:
            if not ami.connected:
                raise  # not a refusal: the rows stay waiting and the reconnect's full sync applies them
            # Asterisk answered but refused: keep the intent, say why, retry later with back-off.
            log.warning("Asterisk refused a change: %s", error)
            refused = f"Asterisk refused the change: {error}"
            errors.update({number_id: refused for number_id in batch.number_ids})
        with transaction(self.factory) as session:
            outbox.close_batch(session, batch, errors)
        if errors or refused:  # a batch of handsets only has no number to carry the error
            self._schedule_retry(errors or {0: refused})
        return True

    def prune_outbox(self) -> int:
        """Delete one batch of applied outbox rows older than the retention, when due; the number deleted."""
        if time.monotonic() < self._prune_at:
            return 0
        limit = outbox.PRUNE_BATCH
        with transaction(self.factory) as session:
            pruned = outbox.prune_applied(session, utcnow() - outbox.APPLIED_RETENTION, limit)
        self._prune_at = time.monotonic() + (PRUNE_BACKLOG_S if pruned == limit else PRUNE_EVERY_S)
        if pruned:
            log.info("pruned %d outbox rows applied over %s ago", pruned, outbox.APPLIED_RETENTION)
        return pruned

    def _schedule_retry(self, errors: dict[int, str]) -> None:
        """A full sync retries whatever failed; doubling waits, so a lasting fault costs little.

        Only a full sync that met no error clears the schedule."""
        if not errors:
            self._retry_at, self._retry_s = None, RETRY_MIN_S
            return
        self._retry_at = time.monotonic() + self._retry_s
        self._retry_s = min(self._retry_s * 2, RETRY_MAX_S)


def _shown(key: str) -> bool:
    """Keys that decide what a handset's screen shows: its number, that number's label."""
    return key.startswith("handset/") or key.endswith(("/handset", "/label"))


async def _label_state(ami: Ami, keys: dict[str, str]) -> dict[str, str | None]:
    """What Asterisk holds now for the batch's handset and label keys (None: absent)."""
    watched = [k for k in keys if _shown(k)]
    values = await asyncio.gather(*(ami.db_get(FAMILY, k) for k in watched))
    return dict(zip(watched, values))


def label_changes(before: dict[str, str | None], keys: dict[str, str]) -> dict[str, str]:
    """R15: the keys push_labels needs for the handsets whose number or label changes.

    A feature change (DND, forwarding...) changes neither, so it sends no NOTIFY: a
    phone is asked to re-read its config only when what it shows changes."""
    changed = [k for k, old in before.items() if _shown(k) and k in keys and old != keys[k]]
    pushes = {k: keys[k] for k in changed if k.startswith("handset/")}
    for key in changed:
        if key.startswith("num/"):
            prefix = key.rsplit("/", 1)[0]
            pushes.update({f"{prefix}/{leaf}": keys.get(f"{prefix}/{leaf}", "") for leaf in ("handset", "label")})
    return pushes


def _line_break_errors(refused: dict[str, str]) -> dict[int, str]:
    by_number: dict[int, list[str]] = {}
    for key in refused:
        number_id = sync.number_of_key(key)
        if number_id is not None:
            by_number.setdefault(number_id, []).append(key.rsplit("/", 1)[-1])
    if refused:
        log.error("refused to send %d AstDB values with a line break: %s", len(refused), sorted(refused))
    return {number_id: LINE_BREAK.format(keys=", ".join(sorted(keys))) for number_id, keys in by_number.items()}

