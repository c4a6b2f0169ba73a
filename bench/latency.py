"""(a)/(c) Change -> live: from a pbx.services call returning (committed) to the AstDB key
the dialplan reads holding the new value, with `pbx controller` running as it does in
production (its own process). The key is watched with AMI DBGet in a tight loop (one
round trip is about 0.2 ms here, which is the resolution of the figure).
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from pbx.asterisk.ami import Ami
from pbx.services import features
from pbx.services.actor import Actor
from pbx.settings import Settings
from pbx.store import transaction
from pbx.store.models import PhoneNumber

LIVE_TIMEOUT_S = 5.0
MAX_GAP_S = 0.02  # changes arrive at random moments of the controller's poll cycle
RING_VALUES = range(5, 121)  # no_answer_seconds: a different value every change


@dataclass
class Latency:
    samples_ms: list[float]

    def percentile(self, p: float) -> float:
        ordered = sorted(self.samples_ms)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]

    def line(self) -> str:
        return (
            f"n={len(self.samples_ms)}  p50 {self.percentile(50):.1f} ms  p99 {self.percentile(99):.1f} ms  "
            f"max {max(self.samples_ms):.1f} ms  mean {statistics.fmean(self.samples_ms):.1f} ms"
        )


def measure(settings: Settings, factory: sessionmaker[Session], e164: str, changes: int) -> Latency:
    return asyncio.run(_measure(settings, factory, e164, changes))


async def _measure(settings: Settings, factory: sessionmaker[Session], e164: str, changes: int) -> Latency:
    with transaction(factory) as session:
        number_id = session.query(PhoneNumber.id).filter(PhoneNumber.e164 == e164).scalar()
    key = f"num/{number_id}/ring"
    actor = Actor.system("bench")
    rng = random.Random(20)
    ami = await Ami.connect(settings)
    samples = []
    try:
        previous = await ami.db_get("pbx", key)
        for index in range(changes):
            seconds = RING_VALUES[index % len(RING_VALUES)]
            if str(seconds) == previous:
                seconds = RING_VALUES[(index + 1) % len(RING_VALUES)]
            with transaction(factory) as session:
                features.update_features(session, actor, number_id, {"no_answer_seconds": seconds})
            started = time.perf_counter()  # the service call has returned: committed
            deadline = started + LIVE_TIMEOUT_S
            while await ami.db_get("pbx", key) != str(seconds):
                if time.perf_counter() > deadline:
                    raise RuntimeError(f"change {index} not live within {LIVE_TIMEOUT_S} s: is the controller up?")
            samples.append((time.perf_counter() - started) * 1000)
            previous = str(seconds)
            await asyncio.sleep(rng.uniform(0, MAX_GAP_S))
    finally:
        await ami.close()
    return Latency(samples)
