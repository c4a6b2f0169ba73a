"""N Asterisk nodes, each with its own agent (the controller), sharing one store: for the cluster
tests and bench/changelog_bench.py. 127.0.0.1 only; each node's ports are base + 1000*i."""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from pbx.asterisk.ami import Ami
from pbx.asterisk.controller import Controller
from pbx.asterisk.local import LocalAsterisk
from pbx.settings import AsteriskPorts, Settings
from pbx.store import make_engine, make_session_factory

AGENT_STOP_S = 15


def node_settings(
    base: Settings, instance: str, index: int, port_base: int, state_dir: Path, database_url: str
) -> Settings:
    """Node `index` (1..N): instance `<instance>-<index>`, ports port_base + 1000*index + 60/38/88/98."""
    first = port_base + 1000 * index
    directory = state_dir / f"node-{index}"
    directory.mkdir(parents=True, exist_ok=True)
    return dataclasses.replace(
        base,
        state_dir=directory,
        database_url=database_url,
        instance=f"{instance}-{index}",
        node_name=f"node-{index}",
        ports=AsteriskPorts(sip=first + 60, ami=first + 38, http=first + 88, trunk_outbound=first + 98),
    )


def start_asterisks(settings: list[Settings]) -> list[LocalAsterisk]:
    """Fresh Asterisks (empty AstDB), one per node; on failure the started ones are stopped."""
    started: list[LocalAsterisk] = []
    try:
        for s in settings:
            local = LocalAsterisk(s)
            local.down()
            for state in ("lib", "spool"):
                shutil.rmtree(local.instance_dir / state, ignore_errors=True)
            started.append(local)
            local.up()
    except BaseException:
        for local in started:
            local.down()
        raise
    return started


class Agent:
    """One node's agent: the real controller loop in a thread with its own engine, as `pbx controller`."""

    def __init__(
        self,
        settings: Settings,
        applied: Counter[tuple[str, int]] | None = None,
        events: list[tuple[str, str]] | None = None,
    ) -> None:
        self.settings = settings
        self.applied = applied if applied is not None else Counter()
        self.events = events if events is not None else []
        self.engine = make_engine(settings.database_url)
        self.controller: Controller | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None

    def _record(self, name: str, row_ids: list[int]) -> None:
        self.applied.update((name, row_id) for row_id in row_ids)

    def start(self) -> Controller:
        controller = Controller(
            self.settings,
            make_session_factory(self.engine),
            on_applied=self._record,
            on_caught_up=lambda name: self.events.append(("caught_up", name)),
            on_behind=lambda name: self.events.append(("behind", name)),
        )
        loop = asyncio.new_event_loop()
        stop = asyncio.Event()

        async def main() -> None:
            await controller.run(stop)

        self.controller, self._loop, self._stop = controller, loop, stop
        self._thread = threading.Thread(target=lambda: loop.run_until_complete(main()), daemon=True)
        self._thread.start()
        return controller

    def stop(self) -> None:
        if self._thread is not None and self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(AGENT_STOP_S)
            self._loop.close()
            self._thread = None

    def close(self) -> None:
        self.stop()
        self.engine.dispose()


def wait_until(predicate: Any, timeout: float, what: str, step: float = 0.02) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"{what}: not within {timeout} s")


class AmiReader:
    """One AMI session per node, kept open in a thread of its own: DBGet in ~0.2 ms."""

    def __init__(self, settings: list[Settings]) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.amis: list[Ami] = [self.run(Ami.connect(s)) for s in settings]

    def run(self, coro: Any, timeout: float = 30) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def get(self, node: int, family: str, key: str) -> str | None:
        return self.run(self.amis[node].db_get(family, key))

    def get_all(self, family: str, key: str) -> list[str | None]:
        async def every() -> list[str | None]:
            return list(await asyncio.gather(*(ami.db_get(family, key) for ami in self.amis)))

        return self.run(every())

    def close(self) -> None:
        for ami in self.amis:
            self.run(ami.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
