"""Benchmark of issue 9, the change log every node applies, on N Asterisk nodes of its own
("bench-cl-<i>", 127.0.0.1 only), each with its agent (`pbx controller`, PBX_NODE_NAME=node-<i>)
in its own process, as deployed, sharing one store:

(a) change -> live on all nodes: from a pbx.services call returning (committed) until every
    node's AstDB holds the new value (AMI DBGet on all nodes in a tight loop), p50/p99;
(b) catch-up: one node's agent is stopped while M changes are made; the time from its restart
    until it is in service again (caught up: its cursor at the head of the log).

Run from the repo root, as root like the test suite:
    python bench/changelog_bench.py                       # 3 nodes, 10,000 numbers, M = 10,000
    python bench/changelog_bench.py --numbers 1000 --catchup 1000 --changes 100   # a quick look
    python bench/changelog_bench.py --store postgresql    # a PostgreSQL started for the run
Goals: (a) p99 < 50 ms with 3 nodes and 10,000 numbers; (b) back within 30 s of the restart.
Every wait is bounded; everything started is stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bigstore
from latency import Latency
from sqlalchemy import select

from pbx import demo
from pbx.asterisk.ami import Ami
from pbx.asterisk.outbox import has_pending
from pbx.services import features
from pbx.services.actor import Actor
from pbx.services.guards import why_read_only
from pbx.settings import REPO_ROOT, Settings
from pbx.store import Node, NodeState, NumberStatus, PhoneNumber, make_engine, make_session_factory, transaction
from pbx.store.migrate import upgrade
from tests.cluster import node_settings, start_asterisks
from tests.postgres_server import PostgresServer

INSTANCE = "bench-cl"
PORT_BASE = 46000  # node i: 46000 + 1000*i + 60/38/88/98
SYNC_TIMEOUT_S = 600
LIVE_TIMEOUT_S = 5.0
MAX_GAP_S = 0.02
RING_VALUES = range(5, 121)
GOAL_P99_MS, GOAL_CATCHUP_S = 50.0, 30.0


def agent_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PBX_")}
    env.update(
        {
            "PBX_STATE_DIR": str(settings.state_dir),
            "PBX_CACHE_DIR": str(settings.cache_dir),
            "PBX_DATABASE_URL": settings.database_url,
            "PBX_INSTANCE": settings.instance,
            "PBX_NODE_NAME": settings.node_name,
            "PBX_SIP_PORT": str(settings.ports.sip),
            "PBX_AMI_PORT": str(settings.ports.ami),
            "PBX_HTTP_PORT": str(settings.ports.http),
            "PBX_TRUNK_OUTBOUND_PORT": str(settings.ports.trunk_outbound),
        }
    )
    return env


class AgentProcess:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.settings.state_dir / "controller.log", "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "pbx.cli", "controller"],
                cwd=REPO_ROOT,
                env=agent_env(self.settings),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc = None


def in_service(factory, names: list[str]) -> bool:
    with transaction(factory) as session:
        nodes = {n.name: n for n in session.scalars(select(Node).where(Node.name.in_(names)))}
        return (
            len(nodes) == len(names)
            and all(n.state is NodeState.IN_SERVICE for n in nodes.values())
            and not any(has_pending(session, name) for name in names)
        )


def wait_in_service(factory, names: list[str], agents: list[AgentProcess], timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if in_service(factory, names):
            return time.monotonic() - started
        for agent in agents:
            if agent.proc is not None and agent.proc.poll() is not None:
                raise RuntimeError(f"agent {agent.settings.node_name} exited; see its controller.log")
        time.sleep(0.05)
    raise RuntimeError(f"{names} not in service within {timeout} s")


def changeable_numbers(factory, count: int) -> list[int]:
    with transaction(factory) as session:
        numbers = session.scalars(
            select(PhoneNumber).where(PhoneNumber.status == NumberStatus.ACTIVE).order_by(PhoneNumber.id.desc())
        )
        return [n.id for n in numbers if why_read_only(n) is None][:count]


async def live_everywhere(settings: list[Settings], factory, number_id: int, changes: int) -> Latency:
    key = f"num/{number_id}/ring"
    actor = Actor.system("bench")
    rng = random.Random(9)
    amis = [await Ami.connect(s) for s in settings]
    samples = []
    try:
        previous = await amis[0].db_get("pbx", key)
        for index in range(changes):
            seconds = RING_VALUES[index % len(RING_VALUES)]
            if str(seconds) == previous:
                seconds = RING_VALUES[(index + 1) % len(RING_VALUES)]
            with transaction(factory) as session:
                features.update_features(session, actor, number_id, {"no_answer_seconds": seconds})
            started = time.perf_counter()
            waiting = list(amis)
            while waiting:
                values = await asyncio.gather(*(ami.db_get("pbx", key) for ami in waiting))
                waiting = [ami for ami, value in zip(waiting, values, strict=True) if value != str(seconds)]
                if time.perf_counter() - started > LIVE_TIMEOUT_S:
                    raise RuntimeError(f"change {index} not live on every node within {LIVE_TIMEOUT_S} s")
            samples.append((time.perf_counter() - started) * 1000)
            previous = str(seconds)
            await asyncio.sleep(rng.uniform(0, MAX_GAP_S))
    finally:
        for ami in amis:
            await ami.close()
    return Latency(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--numbers", type=int, default=10_000, help="numbers in the store")
    parser.add_argument("--changes", type=int, default=300, help="(a) changes measured")
    parser.add_argument("--catchup", type=int, default=10_000, help="(b) changes made while one agent is down")
    parser.add_argument("--store", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--keep", action="store_true", help="keep the state dir")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="pbx-changelog-bench-"))
    postgres = PostgresServer() if args.store == "postgresql" else None
    agents: list[AgentProcess] = []
    asterisks = []
    try:
        url = postgres.start() if postgres else f"sqlite:///{work / 'store.db'}"
        base = Settings.from_env()
        settings = [node_settings(base, INSTANCE, i, PORT_BASE, work, url) for i in range(1, args.nodes + 1)]
        names = [s.node_name for s in settings]
        upgrade(url)
        factory = make_session_factory(make_engine(url))
        with transaction(factory) as session:
            demo.seed(session)
        started = time.monotonic()
        bigstore.add_numbers(factory, args.numbers)
        print(
            f"store: {bigstore.number_count(factory)} numbers ({args.store}), added in "
            f"{time.monotonic() - started:.0f} s"
        )
        asterisks = start_asterisks(settings)
        agents = [AgentProcess(s) for s in settings]
        for agent in agents:
            agent.start()
        first = wait_in_service(factory, names, agents, SYNC_TIMEOUT_S)
        print(f"first sync: {args.nodes} nodes in service {first:.1f} s after their agents started")

        (number_id,) = changeable_numbers(factory, 1)
        latency = asyncio.run(live_everywhere(settings, factory, number_id, args.changes))
        verdict = "ok" if latency.percentile(99) < GOAL_P99_MS else "MISSED"
        print(
            f"(a) change -> live on all {args.nodes} nodes: {latency.line()}  "
            f"[goal p99 < {GOAL_P99_MS:.0f} ms: {verdict}]"
        )

        late = agents[-1]
        late.stop()
        numbers = changeable_numbers(factory, 500)
        actor = Actor.system("bench")
        started = time.monotonic()
        for index in range(args.catchup):
            with transaction(factory) as session:
                features.update_features(
                    session,
                    actor,
                    numbers[index % len(numbers)],
                    {"no_answer_seconds": RING_VALUES[index % len(RING_VALUES)]},
                )
        made = time.monotonic() - started
        others = wait_in_service(factory, names[:-1], agents[:-1], SYNC_TIMEOUT_S)
        print(
            f"(b) {args.catchup} changes made in {made:.1f} s while {names[-1]} was down "
            f"(the others had them {others:.1f} s later)"
        )
        late.start()
        back = wait_in_service(factory, names[-1:], [late], SYNC_TIMEOUT_S)
        verdict = "ok" if back < GOAL_CATCHUP_S else "MISSED"
        print(
            f"(b) catch-up: {names[-1]} in service {back:.1f} s after its restart "
            f"[goal < {GOAL_CATCHUP_S:.0f} s: {verdict}]"
        )
        log = (settings[-1].state_dir / "controller.log").read_text(errors="replace")
        replayed = [line for line in log.splitlines() if "replaying" in line or "full sync:" in line][-1:]
        print(f"    its agent: {replayed[0].split('pbx.controller')[-1].strip() if replayed else '?'}")
        return 0
    finally:
        for agent in agents:
            agent.stop()
        for local in asterisks:
            local.down()
        if postgres:
            postgres.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {work}")


if __name__ == "__main__":
    sys.exit(main())
