"""The one back-off the controller, the ARI client and the voicemail mailer reconnect with."""

from __future__ import annotations

import asyncio
import time

from pbx.asterisk.ari import client
from pbx.asterisk.reconnect import Backoff, sleep_or_stop


def test_the_wait_doubles_up_to_its_cap_and_starts_over_on_success():
    backoff = Backoff(0.2, 1.0)
    seen = []
    for _ in range(5):
        seen.append(backoff.seconds)
        backoff.grow()
    backoff.reset()

    assert seen == [0.2, 0.4, 0.8, 1.0, 1.0]
    assert backoff.seconds == 0.2


def test_stop_cuts_a_wait_short():
    async def main() -> float:
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(0.05, stop.set)
        started = time.monotonic()
        await sleep_or_stop(stop, 5.0)
        return time.monotonic() - started

    assert asyncio.run(main()) < 1.0


def test_the_ari_client_is_back_within_a_second_of_asterisk():
    assert client.BACKOFF_MAX_S <= 1.0
