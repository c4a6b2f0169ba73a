"""`await store(fn, *args)`: one pbx.services call in one transaction, in a worker thread.

SQLAlchemy is sync: the call runs in asyncio.to_thread so the event loop keeps serving
other calls. Services return plain values (frozen dataclasses), never live ORM objects.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from pbx.asterisk.ari.channel import Call
from pbx.services.actor import Actor
from pbx.services.unit_of_work import unit_of_work

T = TypeVar("T")


class Store:
    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory

    async def __call__(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.to_thread(self._run, fn, *args)

    def _run(self, fn: Callable[..., T], *args: Any) -> T:
        with unit_of_work(self.factory) as session:
            return fn(session, *args)


def caller(call: Call) -> Actor:
    """The handset the channel authenticated as (never what it sends), acting for no number yet:
    `pbx.services.phone.find_desk` says which number it acts for."""
    return Actor.handset(call.endpoint, None, None)
