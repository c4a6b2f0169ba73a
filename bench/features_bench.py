"""Benchmark of issue 3, in one run on its own Asterisk ("bench", 127.0.0.1 only):

(a) change -> live latency p50/p99 over a few hundred feature changes (demo store),
(b) the highest call rate with no failed call, trunk caller -> number -> handset
    answering, through the generated dialplan (every feature looked up in AstDB) and
    through a minimal `Dial(PJSIP/handset,18,I)` on the same Asterisk, printed as a ratio,
(c) the change latency again with 10,000 numbers in the store, and (c2) the call
    rates again at that size.

Run from the repo root: `python bench/features_bench.py` (root, like the test suite:
Asterisk runs in the chroot). Goals: p99 < 50 ms at 10,000 numbers; ratio >= 0.9.
Everything is bounded: counts, rates, and a timeout on every wait.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bigstore
import latency

from pbx import demo
from pbx.asterisk.local import LocalAsterisk
from pbx.asterisk.outbox import has_pending
from pbx.asterisk.start import start_local_asterisk
from pbx.settings import REPO_ROOT, AsteriskPorts, Settings
from pbx.store import make_engine, make_session_factory, transaction
from pbx.store.migrate import upgrade

INSTANCE = "bench"
PORTS = AsteriskPorts(sip=26060, ami=26038, http=28888, trunk_outbound=26098)
NUMBER = "+442079460201"  # Alice: logged in to desk-os-1
HANDSET = "desk-os-1"
MINIMAL = "bench-minimal"  # the trunk dials this to reach the minimal dialplan
SYNC_TIMEOUT_S = 300
GOAL_P99_MS, GOAL_RATIO = 50.0, 0.9


def bench_settings(state_dir: Path) -> Settings:
    base = Settings.from_env()
    return dataclasses.replace(
        base, state_dir=state_dir, database_url=f"sqlite:///{state_dir / 'bench.db'}", instance=INSTANCE, ports=PORTS
    )


def controller_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PBX_")}
    env.update(
        {
            "PBX_STATE_DIR": str(settings.state_dir),
            "PBX_CACHE_DIR": str(settings.cache_dir),
            "PBX_DATABASE_URL": settings.database_url,
            "PBX_INSTANCE": settings.instance,
            "PBX_SIP_PORT": str(settings.ports.sip),
            "PBX_AMI_PORT": str(settings.ports.ami),
            "PBX_HTTP_PORT": str(settings.ports.http),
            "PBX_TRUNK_OUTBOUND_PORT": str(settings.ports.trunk_outbound),
            "PBX_TRUNK_SECRET": settings.trunk_secret,
        }
    )
    return env


class ControllerProcess:
    """`pbx controller` in its own process, as deployed."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        log = open(self.settings.state_dir / "controller.log", "ab")  # noqa: SIM115 (handed to the child process, closed below)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pbx.cli", "controller"],
            cwd=REPO_ROOT,
            env=controller_env(self.settings),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


def wait_applied(factory, controller: ControllerProcess, timeout: float = SYNC_TIMEOUT_S) -> float:
    """Seconds until the controller has applied every waiting change."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        with transaction(factory) as session:
            if not has_pending(session):
                return time.monotonic() - started
        if controller.proc is not None and controller.proc.poll() is not None:
            raise RuntimeError("the controller exited; see controller.log")
        time.sleep(0.05)
    raise RuntimeError(f"the controller did not apply the store within {timeout} s")


def call_rates(settings: Settings, local: LocalAsterisk, work: Path, rounds: int) -> str:
    """Gone with the SIP edge: this compared two dialplans with the trunk and the handset
    talking to Asterisk itself, which a node no longer accepts (only an edge is an endpoint).
    bench/edge_callrate_bench.py measures call rates now, through the edge."""
    raise SystemExit("(b)/(c2) need the pre-edge node; use bench/edge_callrate_bench.py, or --rounds 0")


def big_store_latency(
    settings: Settings, factory, controller: ControllerProcess, total: int, changes: int
) -> latency.Latency:
    """Grow the store through pbx.services (controller stopped), let the controller's full sync
    apply it all, then measure change -> live again."""
    controller.stop()
    started = time.monotonic()
    added = bigstore.add_numbers(factory, total)
    print(f"(c) added {added} numbers through pbx.services in {time.monotonic() - started:.1f} s")
    controller.start()
    print(
        f"    controller: full sync of {bigstore.number_count(factory)} numbers "
        f"in {wait_applied(factory, controller):.1f} s"
    )
    return latency.measure(settings, factory, NUMBER, changes)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=300, help="feature changes per latency run (<= 2000)")
    parser.add_argument("--numbers", type=int, default=10_000, help="store size for (c) (<= 10000; 0 skips (c))")
    parser.add_argument("--rounds", type=int, default=0, help="(b) is gone with the edge: see edge_callrate_bench.py")
    parser.add_argument("--keep", action="store_true", help="keep the state dir afterwards")
    args = parser.parse_args()
    changes = max(10, min(args.changes, 2000))
    state_dir = Path(tempfile.mkdtemp(prefix="pbx-bench-"))
    settings = bench_settings(state_dir)
    upgrade(settings.database_url)
    factory = make_session_factory(make_engine(settings.database_url))
    with transaction(factory) as session:
        demo.seed(session)
    local = LocalAsterisk(settings)
    local.down()
    for state in ("lib", "spool"):  # a fresh AstDB and spool: only this run's state
        shutil.rmtree(local.instance_dir / state, ignore_errors=True)
    controller = ControllerProcess(settings)
    results: dict[str, str] = {}
    try:
        started = time.monotonic()
        local = start_local_asterisk(settings, factory)
        print(
            f"asterisk '{INSTANCE}' up in {time.monotonic() - started:.1f} s "
            f"(SIP {PORTS.sip}, AMI {PORTS.ami}); state in {state_dir}"
        )
        controller.start()
        print(f"controller: first full sync done in {wait_applied(factory, controller):.1f} s")

        print(f"(a) change -> live, demo store ({bigstore.number_count(factory)} numbers), {changes} changes")
        small = latency.measure(settings, factory, NUMBER, changes)
        results["a"] = small.line()
        print(f"    {results['a']}")

        if args.rounds > 0:
            print("(b) highest call rate with no failed call (trunk -> number -> handset answering)")
            results["b"] = call_rates(settings, local, state_dir, args.rounds)
            print(f"    {results['b']}  (goal ratio >= {GOAL_RATIO})")

        if args.numbers > 0:
            big = big_store_latency(settings, factory, controller, min(args.numbers, 10_000), changes)
            results["c"] = big.line()
            print(f"    {results['c']}  (goal p99 < {GOAL_P99_MS:.0f} ms)")
            if args.rounds > 0:
                print(f"(c2) call rates again, {bigstore.number_count(factory)} numbers in the store")
                results["c2"] = call_rates(settings, local, state_dir, 1)
                print(f"    {results['c2']}")
    finally:
        controller.stop()
        local.down()
        if not args.keep:
            shutil.rmtree(state_dir, ignore_errors=True)
    print("\nsummary")
    for part, line in results.items():
        print(f"  ({part}) {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
