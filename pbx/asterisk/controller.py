"""The node agent (the controller): applies the change log to one Asterisk and keeps it equal to the store.

One agent per Asterisk node, named by PBX_NODE_NAME. It reads the change log (the outbox)
after its own cursor, applies the rows (R33: AstDB puts, no reload), then commits the
cursor: a crash re-applies a batch, never skips one (applying is idempotent). On every
(re)connect it waits for Asterisk to be fully booted, then either replays from its cursor
(this Asterisk still holds what the cursor says: the sync token of its last full sync is in
its AstDB) or rewrites the whole state from the store (a new or wiped Asterisk, a node
never seen or forgotten after pruning), and sets its cursor to the log's head read before
that snapshot. While Asterisk is away, changes wait in the log, Pending, and nothing is lost.
What Asterisk refuses is recorded on the number (last_error, still Pending) and retried with
back-off. Once at the head of the log the node is in service (on_caught_up: the edge may
give it calls); losing Asterisk or re-syncing takes it out (on_behind).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from pbx.asterisk import greeting_files, outbox, portal_keys, routing, sync
from pbx.asterisk.ami import Ami, AmiError
from pbx.asterisk.handset_label import push_labels
from pbx.asterisk.lamp import lamp_changes, push_lamps
from pbx.asterisk.live_state import FAMILY, live_state
from pbx.asterisk.local import asterisk_folders
from pbx.asterisk.reconnect import Backoff, sleep_or_stop
from pbx.asterisk.render import render
from pbx.asterisk.snapshot import load_snapshot
from pbx.settings import Settings
from pbx.store.db import transaction
from pbx.store.models import NodeState, utcnow

log = logging.getLogger("pbx.controller")
POLL_S = 0.005  # change log poll: a cheap indexed query, well inside the 50 ms goal
LISTEN_POLL_S = 0.5  # PostgreSQL: NOTIFY wakes the agent; the poll is only the fallback
BACKOFF_MIN_S, BACKOFF_MAX_S = 0.2, 5.0  # reconnecting while Asterisk is away
RETRY_MIN_S, RETRY_MAX_S = 1.0, 60.0  # re-trying what Asterisk refused
LINE_BREAK = "a value with a line break cannot be sent to Asterisk ({keys})"
PRUNE_EVERY_S = 3600.0  # old applied rows go at most once an hour...
PRUNE_BACKLOG_S = 1.0  # ...or a batch a second while a backlog of them remains
HEARTBEAT_S = 5.0  # the node row's last_seen_at (outbox.HEARTBEAT_WINDOW is 30 s)
PROGRESS_S = 2.0  # a long sync logs and records its progress at most this often
# The last full sync's token, in the node's AstDB, outside the family a full sync diffs.
MARK_FAMILY, MARK_KEY = "pbxsyncmark", "token"

NodeHook = Callable[[str], None]  # called with the node name


@dataclass
class SyncReport:
    """What one full sync changed in Asterisk: all zero when it already matched the store."""

    put: int = 0
    deleted: int = 0
    reloads: list[str] = field(default_factory=list)
    errors: dict[int, str] = field(default_factory=dict)  # number id -> why it is not live


@dataclass
class Progress:
    """Where a long sync or catch-up is: `pbx up` waits while this moves."""

    phase: str = "starting"
    done: int = 0
    total: int = 0

    def __str__(self) -> str:
        return f"{self.phase} {self.done}/{self.total}" if self.total else self.phase


class Controller:
    def __init__(
        self,
        settings: Settings,
        factory: sessionmaker[Session],
        name: str | None = None,
        *,
        on_caught_up: NodeHook | None = None,
        on_behind: NodeHook | None = None,
        on_applied: Callable[[str, list[int]], None] | None = None,
    ) -> None:
        self.settings = settings
        self.factory = factory
        self.name = name or settings.node_name
        self.etc_dir = asterisk_folders(settings).etc  # where rendered config is written
        self.spool_dir = asterisk_folders(settings).spool  # R35: main-number greetings go under it
        self.on_caught_up, self.on_behind, self.on_applied = on_caught_up, on_behind, on_applied
        engine = factory.kw["bind"]
        self._waiting = outbox.WaitingProbe(engine)
        self._probe = outbox.WaitingProbe.IDLE
        self._listen = engine.dialect.name == "postgresql"
        self._wake = asyncio.Event()
        self._resync = asyncio.Event()
        self.synced = asyncio.Event()  # set once Asterisk matches the store: tests and `pbx up` wait on it
        self.connects = 0  # AMI sessions opened, and full syncs run: tests see a reconnect here
        self.full_syncs = 0
        self.replays = 0  # (re)connects that replayed from the cursor instead of a full sync
        self.in_service = False  # at the head of the log, given calls
        self.cursor: outbox.Position | None = None
        self.progress = Progress()
        self._progress_at = 0.0
        self._beat_at = 0.0
        self._retry_at: float | None = None
        self._retry_s = RETRY_MIN_S
        self._prune_at = 0.0  # monotonic time of the next prune

    async def run(self, stop: asyncio.Event) -> None:
        """Until stop: connect, sync or replay, apply the log; on any outage, back off and start over.

        An outage is Asterisk away or restarting, or the store unreachable (a database
        restart): the intent is safe in the store either way, so the loop only waits,
        doubling the wait while nothing succeeds."""
        backoff = Backoff(BACKOFF_MIN_S, BACKOFF_MAX_S)
        listener = asyncio.ensure_future(self._listen_for_changes(stop)) if self._listen else None
        try:
            while not stop.is_set():
                try:
                    ami = await Ami.connect(self.settings)
                except AmiError as error:
                    log.info("Asterisk not reachable (%s); retrying in %.1fs", error, backoff.seconds)
                    self._set_behind(NodeState.DOWN)
                    await backoff.wait(stop)
                    continue
                self.connects += 1
                ready_before = self.full_syncs + self.replays
                try:
                    await self._serve(ami, stop)
                except (
                    TimeoutError,
                    AmiError,
                    OSError,
                    ConnectionError,
                    asyncio.CancelledError,
                    OperationalError,
                    InterfaceError,
                ) as error:
                    # panoramisk cancels the futures of a lost connection: that is not our stop.
                    if isinstance(error, asyncio.CancelledError) and stop.is_set():
                        raise
                    # A sync that worked since connecting means the outage is new: retry soon.
                    if self.full_syncs + self.replays > ready_before:
                        backoff.reset()
                    else:
                        backoff.grow()
                    log.warning("lost Asterisk or the store (%r); starting over in %.1fs", error, backoff.seconds)
                    self._waiting.close()
                    self._set_behind(NodeState.DOWN)
                    await sleep_or_stop(stop, backoff.seconds)
                finally:
                    await ami.close()
        finally:
            if listener is not None:
                listener.cancel()
                with contextlib.suppress(BaseException):
                    await listener
            self._waiting.close()
            self._set_behind(NodeState.DOWN)

    async def _serve(self, ami: Ami, stop: asyncio.Event) -> None:
        # AMI answers before the boot ends; a sync then could reload modules still loading.
        # Ami listens for FullyBooted from before its login (Asterisk sends it at login when
        # booted, or when the boot ends). A restart always drops this connection, so each
        # boot is met here once.
        await ami.wait_fully_booted()
        with transaction(self.factory) as session:
            node = outbox.beat(session, self.name)
            cursor, token = outbox.cursor_of(node), node.sync_token
        marker = await ami.db_get(MARK_FAMILY, MARK_KEY)
        if token is not None and marker == token and not self._resync.is_set():
            # This Asterisk holds everything up to the cursor: replay the rest of the log.
            self.cursor = cursor
            self.replays += 1
            self._set_behind(NodeState.CATCHING_UP)
            with transaction(self.factory) as session:
                waiting = outbox.behind(session, outbox.load_node(session, self.name))
            self.progress = Progress("catching up", 0, waiting)
            log.info("node %s: replaying %d changes from its cursor %s", self.name, waiting, cursor)
        else:
            self._resync.set()
        while not stop.is_set():
            if not ami.connected:  # noticed even when idle, so a restart is caught at once
                raise AmiError("AMI connection lost")
            if self._resync.is_set() or (self._retry_at is not None and time.monotonic() >= self._retry_at):
                self._resync.clear()
                await self.full_sync(ami)
            self._heartbeat()
            self.prune_outbox()
            if not await self.apply_outbox(ami):
                if not self.in_service and self._probe == outbox.WaitingProbe.IDLE:
                    self._set_caught_up()
                await self._idle()

    async def _idle(self) -> None:
        """Wait for the next change: a NOTIFY (PostgreSQL) or the poll (a plain sleep, no task per wait)."""
        if not self._listen or self._probe != outbox.WaitingProbe.IDLE:
            await asyncio.sleep(POLL_S)  # SQLite, or a row committed behind a transaction still open
            return
        self._wake.clear()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._wake.wait(), LISTEN_POLL_S)

    async def _listen_for_changes(self, stop: asyncio.Event) -> None:
        """PostgreSQL: LISTEN on the log's channel (a trigger NOTIFYs at each insert's commit); a wake-up only."""
        import psycopg

        url = self.factory.kw["bind"].url.set(drivername="postgresql").render_as_string(hide_password=False)
        while not stop.is_set():
            try:
                async with await psycopg.AsyncConnection.connect(url, autocommit=True) as connection:
                    await connection.execute(f"LISTEN {outbox.NOTIFY_CHANNEL}")
                    async for _ in connection.notifies():
                        self._wake.set()
            except psycopg.Error as error:
                log.info("LISTEN failed (%s); polling until it is back", error)
                await sleep_or_stop(stop, BACKOFF_MAX_S)

    async def full_sync(self, ami: Ami) -> SyncReport:
        """Make Asterisk equal to the store: files (targeted reloads) and every AstDB key (diffed);
        the cursor becomes the log's head read before the snapshot."""
        self._set_behind(NodeState.SYNCING)
        self._report(Progress("reading the store"))
        with transaction(self.factory) as session:
            # The head first: every row at or before it was committed before the snapshot is
            # read, so the snapshot holds its change (PostgreSQL reads at READ COMMITTED).
            cursor = outbox.head(session)
            snapshot = load_snapshot(session)
            greeting_files.write_missing(session, self.spool_dir, greeting_files.snapshot_names(snapshot))  # R35
        report = SyncReport()
        self._report(Progress("writing files"))
        report.reloads = await sync.apply_files(ami, self.etc_dir, render(snapshot, self.settings))
        wanted, refused = sync.split_sendable(live_state(snapshot))
        report.errors = _line_break_errors(refused)
        self._report(Progress("reading Asterisk's keys", 0, len(wanted)))
        current = await sync.current_live_state(ami)
        report.put, report.deleted = await sync.push_live_state(
            ami,
            wanted,
            keep=refused,
            current=current,
            progress=lambda done, total: self._report(Progress("putting keys", done, total)),
        )
        # Screens follow a label or login changed while we were away; a wiped AstDB (a new
        # Asterisk) pushes nothing: its phones re-register and re-provision anyway.
        held: dict[str, str | None] = {k: current[k] for k in wanted if k in current}
        await push_labels(ami, label_changes(held, wanted), self.settings)
        await push_lamps(ami, lamp_changes(held, wanted), self.settings)  # R41: the lamp follows the number
        token = uuid.uuid4().hex
        await ami.db_put(MARK_FAMILY, MARK_KEY, token)
        with transaction(self.factory) as session:
            outbox.close_full_sync(session, self.name, cursor, token, report.errors)
        self.cursor = cursor
        self._schedule_retry(report.errors)
        self.full_syncs += 1
        self._set_behind(NodeState.CATCHING_UP)
        self._report(Progress("catching up"), force=True)
        log.info(
            "node %s: full sync: %d keys put, %d deleted, reloads %s, %d numbers refused",
            self.name,
            report.put,
            report.deleted,
            report.reloads or "none",
            len(report.errors),
        )
        self.synced.set()
        return report

    async def apply_outbox(self, ami: Ami) -> bool:
        """Apply one merged batch of the rows after the cursor; False when there was nothing to do."""
        cursor = self._current_cursor()
        self._probe = self._waiting(cursor)
        if self._probe != outbox.WaitingProbe.READY:
            return False
        with transaction(self.factory) as session:
            # Catching up, bigger batches: merged, a number changed 20 times is put once, not 20.
            batch = outbox.next_batch(session, cursor, outbox.BATCH if self.in_service else outbox.CATCHUP_BATCH)
            if not batch:
                return False
            keys, gone = outbox.wanted_keys(session, batch)
            greeting_files.write_missing(
                session, self.spool_dir, greeting_files.wanted_names(keys)
            )  # R35: the file before its key
        keys, line_breaks = sync.split_sendable(keys)
        errors = _line_break_errors(line_breaks)
        refused = ""
        try:
            before = await _label_state(ami, keys)
            stale = await routing.stale_routes(ami, batch.number_ids, keys)  # DIDs/extensions dropped
            stale += await portal_keys.stale_portal(ami, batch.site_ids, keys)  # R42: a portal DID dropped
            await sync.put_keys(ami, keys)
            for tree in gone:
                await ami.db_deltree(FAMILY, tree)  # an absent tree counts as deleted
            await routing.delete_routes(ami, stale)
            await push_labels(ami, label_changes(before, keys), self.settings)  # R15: after the keys are live
            await push_lamps(ami, lamp_changes(before, keys), self.settings)  # R41: the lamp follows the number
            if batch.structure:
                # After the keys: a new number is callable as soon as its AstDB keys are in (routing
                # needs no file); only the rendered files (the mailboxes, on SQLite) follow, from a
                # snapshot read now, so rendering the whole store never delays the call path.
                with transaction(self.factory) as session:
                    files = render(load_snapshot(session), self.settings)
                await sync.apply_files(ami, self.etc_dir, files)
        except AmiError as error:
            if not ami.connected:
                raise  # not a refusal: the cursor stays and the reconnect applies the rows again
            # Asterisk answered but refused: keep the intent, say why, retry later with back-off.
            log.warning("node %s: Asterisk refused a change: %s", self.name, error)
            refused = f"Asterisk refused the change: {error}"
            errors.update({number_id: refused for number_id in batch.number_ids})
        with transaction(self.factory) as session:
            outbox.close_batch(session, self.name, batch, errors)
        self.cursor = batch.end
        self._beat_at = time.monotonic()  # closing the batch was a heartbeat
        if self.on_applied is not None:
            self.on_applied(self.name, batch.row_ids)
        if not self.in_service:
            self._report(Progress("catching up", self.progress.done + len(batch.row_ids), self.progress.total))
        if errors or refused:  # a batch of handsets only has no number to carry the error
            self._schedule_retry(errors or {0: refused})
        return True

    def _current_cursor(self) -> outbox.Position:
        if self.cursor is None:
            with transaction(self.factory) as session:
                self.cursor = outbox.cursor_of(outbox.load_node(session, self.name))
        return self.cursor

    def _set_caught_up(self) -> None:
        """At the head of the log: in service (the edge may give this node calls)."""
        with transaction(self.factory) as session:
            node = outbox.beat(session, self.name, NodeState.IN_SERVICE)
            node.progress = None
        self._beat_at = time.monotonic()
        self.in_service = True
        self.progress = Progress("in service")
        self.synced.set()
        log.info("node %s: caught up at %s, in service", self.name, self.cursor)
        if self.on_caught_up is not None:
            self.on_caught_up(self.name)

    def _set_behind(self, state: NodeState) -> None:
        """Out of service (syncing, catching up, or down): the edge should give it no calls."""
        was = self.in_service
        self.in_service = False
        with contextlib.suppress(OperationalError, InterfaceError), transaction(self.factory) as session:
            outbox.beat(session, self.name, state)
        if was and self.on_behind is not None:
            self.on_behind(self.name)

    def _heartbeat(self) -> None:
        if time.monotonic() - self._beat_at < HEARTBEAT_S:
            return
        with transaction(self.factory) as session:
            outbox.beat(session, self.name)
        self._beat_at = time.monotonic()

    def _report(self, progress: Progress, force: bool = False) -> None:
        """A long step's progress: the attribute always; the log and the node row every PROGRESS_S."""
        self.progress = progress
        now = time.monotonic()
        if not force and now - self._progress_at < PROGRESS_S and progress.done < progress.total:
            return
        self._progress_at = now
        if progress.total:
            log.info("node %s: %s", self.name, progress)
        with transaction(self.factory) as session:
            outbox.beat(session, self.name).progress = str(progress)[:200]
        self._beat_at = now

    def prune_outbox(self) -> int:
        """Delete one batch of rows every node has applied, older than the retention, when due."""
        if time.monotonic() < self._prune_at:
            return 0
        limit = outbox.PRUNE_BATCH
        with transaction(self.factory) as session:
            pruned = outbox.prune_applied(
                session,
                utcnow() - outbox.APPLIED_RETENTION,
                limit,
                forgotten=lambda name: log.warning(
                    "node %s not seen for %s: forgotten (it full-syncs if it returns)", name, outbox.APPLIED_RETENTION
                ),
            )
        self._prune_at = time.monotonic() + (PRUNE_BACKLOG_S if pruned == limit else PRUNE_EVERY_S)
        if pruned:
            log.info("pruned %d change log rows applied over %s ago", pruned, outbox.APPLIED_RETENTION)
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
    return dict(zip(watched, values, strict=True))


def label_changes(before: dict[str, str | None], keys: dict[str, str]) -> dict[str, str]:
    """R15: the keys push_labels needs for the handsets whose number or label changes.

    A feature change (DND, forwarding...) changes neither, so it sends no NOTIFY: a
    phone is asked to re-read its config only when what it shows changes."""
    changed = [k for k, old in before.items() if _shown(k) and k in keys and old != keys[k]]
    pushes = {k: keys[k] for k in changed if k.startswith("handset/")}
    for key in changed:
        if key.startswith("num/"):
            prefix = key.rsplit("/", 1)[0]
            leaves = ("handset", "label") if keys.get(f"{prefix}/label") else ("handset", "label", "ext", "e164")
            pushes.update({f"{prefix}/{leaf}": keys.get(f"{prefix}/{leaf}", "") for leaf in leaves})  # ext, e164: R15
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
