"""Waiting between attempts to reach Asterisk: one back-off, one interruptible sleep.

The controller, the ARI client and the voicemail mailer each reconnect on their own
(an Asterisk restart is ridden out by all three); they wait the same way.
"""

from __future__ import annotations

import asyncio
import contextlib


class Backoff:
    """A wait that doubles while attempts fail, up to a cap, and starts over on success."""

    def __init__(self, min_s: float, max_s: float) -> None:
        self.min_s, self.max_s = min_s, max_s
        self.seconds = min_s

    def reset(self) -> None:
        self.seconds = self.min_s

    def grow(self) -> None:
        self.seconds = min(self.seconds * 2, self.max_s)

    async def wait(self, stop: asyncio.Event) -> None:
        """Wait the current time (stop cuts it short), then double it for the next failure."""
        await sleep_or_stop(stop, self.seconds)
        self.grow()


async def sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    """Sleep `seconds`, or less if stop is set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
