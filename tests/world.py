"""The demo world on the real test Asterisk: a fresh store per test, synced through the controller.

Tests act as people do: a handset registers and rings, a caller dials, an admin
changes a feature through pbx.services; the controller's own code applies it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from pbx import demo
from pbx.asterisk.ami import Ami
from pbx.asterisk.controller import Controller
from pbx.services import features
from pbx.services.actor import Actor
from pbx.settings import Settings
from pbx.store import Base, PhoneNumber, make_engine, make_session_factory, transaction
from pbx.store.migrate import upgrade
from tests.sip.call import CallResult, place_call, start_call
from tests.sip.handset import Handset, OutsideWorld

OUTSIDE_CALLER = "+447700900123"


def run_async(coro_fn) -> Any:
    """asyncio.run in a thread of its own: a browser test's sync Playwright may hold this thread's loop."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(coro_fn())
        except BaseException as error:  # noqa: BLE001 (re-raised in the caller's thread)
            outcome["error"] = error

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def reset_store(engine: Engine) -> None:
    """Empty every table in place: the edge keeps its connection to this very file."""
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())


class World:
    def __init__(self, asterisk, state_dir: Path) -> None:
        self.asterisk = asterisk
        # The session's store, emptied and seeded again: the edge authenticates handsets
        # against it (a new file per test would be one the edge does not read).
        url = asterisk.settings.database_url
        self.settings: Settings = dataclasses.replace(asterisk.settings, database_url=url)
        upgrade(url)
        self.engine = make_engine(url)
        reset_store(self.engine)
        self.factory = make_session_factory(self.engine)
        with transaction(self.factory) as session:
            demo.seed(session)
        self.controller = Controller(self.settings, self.factory)
        self.sync()
        with transaction(self.factory) as session:
            self.data: dict[str, Any] = demo.describe(session, self.settings)

    # -- the store, through the same code as the CLI and the web UI ------------
    def run_with_ami(self, fn) -> Any:
        async def main():
            ami = await Ami.connect(self.settings)
            try:
                return await fn(ami)
            finally:
                await ami.close()

        return run_async(main)

    def sync(self) -> None:
        self.run_with_ami(self.controller.full_sync)

    def apply(self) -> None:
        """What the running controller does next: apply every waiting outbox row."""

        async def drain(ami):
            while await self.controller.apply_outbox(ami):
                pass

        self.run_with_ami(drain)

    def set_features(self, number: str, **changes: Any) -> None:
        with transaction(self.factory) as session:
            features.update_features(session, Actor.system("test"), self.number_id(number), changes)
        self.apply()

    def number_id(self, number: str) -> int:
        with transaction(self.factory) as session:
            return session.scalar(
                select(PhoneNumber.id).where(
                    (PhoneNumber.e164 == number)
                    | ((PhoneNumber.extension == number) & PhoneNumber.occupier.has(name="Acme Ltd"))
                )
            )

    # -- people -----------------------------------------------------------------
    def numbers(self, **match: Any) -> list[dict]:
        return [n for n in self.data["numbers"] if all(n.get(k) == v for k, v in match.items())]

    def number(self, **match: Any) -> dict:
        found = self.numbers(**match)
        assert len(found) == 1, f"{match} matches {len(found)} demo numbers"
        return found[0]

    def handset_of(self, phone_id: str, mode: str = "answer", **options: Any) -> Handset:
        h = next(h for h in self.data["handsets"] if h["phone_id"] == phone_id)
        return Handset(self.settings, h["sip_username"], h["sip_password"], mode=mode, **options)

    def outside_world(self, mode: str = "answer", **options: Any) -> OutsideWorld:
        return OutsideWorld(self.settings, mode=mode, **options)

    def call_from_handset(self, phone_id: str, to: str, **options: Any) -> CallResult:
        h = next(h for h in self.data["handsets"] if h["phone_id"] == phone_id)
        return place_call(self.settings, to, caller=h["sip_username"], password=h["sip_password"], **options)

    def start_call_from_handset(self, phone_id: str, to: str, **options: Any):
        h = next(h for h in self.data["handsets"] if h["phone_id"] == phone_id)
        return start_call(self.settings, to, caller=h["sip_username"], password=h["sip_password"], **options)

    def call_from_trunk(self, to: str, caller: str = OUTSIDE_CALLER, **options: Any) -> CallResult:
        return place_call(self.settings, to, caller=caller, trunk=True, **options)

    def start_call_from_trunk(self, to: str, caller: str = OUTSIDE_CALLER, **options: Any):
        return start_call(self.settings, to, caller=caller, trunk=True, **options)

    @contextmanager
    def running_controller(self) -> Iterator[Controller]:
        """The real controller loop in a thread, as `pbx controller` runs it."""
        controller = Controller(self.settings, self.factory)
        loop = asyncio.new_event_loop()
        stop = asyncio.Event()
        thread = threading.Thread(target=lambda: loop.run_until_complete(self._run(controller, stop)), daemon=True)
        thread.start()
        try:
            yield controller
        finally:
            loop.call_soon_threadsafe(stop.set)
            thread.join(15)

    @staticmethod
    async def _run(controller: Controller, stop: asyncio.Event) -> None:
        await controller.run(stop)

    def close(self) -> None:
        self.engine.dispose()
