"""One edge + one node + its agent, started as `pbx up` starts them (pbx.asterisk.start,
pbx.edge.system, `pbx controller` in its own process), on addresses of the benchmark's own:
node 127.0.4.1, edge 127.0.4.101, carrier 127.0.4.201, handsets 127.0.4.5x. Ports 52xxx.
A store of N numbers (bigstore) on SQLite, or on a PostgreSQL started for the run.

The one difference from `pbx up`: the edge's outside limits are raised (EdgeConfig's
pike_density and invite_limit), since the benchmark's carrier is a single source address
sending hundreds of requests a second, which the defaults (30 requests per 2 s per
address; 100 INVITEs/s per carrier) are there to stop.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bigstore
from sqlalchemy import select

from pbx import demo
from pbx.asterisk.local import LocalAsterisk
from pbx.asterisk.outbox import has_pending
from pbx.asterisk.start import start_local_asterisk
from pbx.edge.local import LocalEdge
from pbx.edge.system import edge_configs, wait_linked
from pbx.settings import REPO_ROOT, AsteriskPorts, Settings
from pbx.store import Node, NodeState, make_engine, make_session_factory, transaction
from pbx.store.migrate import upgrade
from tests.postgres_server import PostgresServer
from tests.sip.instance import settings_env

NODE, EDGE, CARRIER = "127.0.4.1", "127.0.4.101", "127.0.4.201"
HANDSET_IP = "127.0.4.51"  # handsets registered at the edge
DIRECT_CALLER, DIRECT_HANDSET = "127.0.4.202", "127.0.4.52"  # the straight paths' static endpoints
SINGLE_CALLER = "127.0.4.203"  # the single-node baseline's carrier (bench/baselines.py)
PORTS = AsteriskPorts(sip=52060, ami=52038, http=52088, trunk_outbound=52098)
EDGE_SIP, EDGE_TRUNK = 52160, 52180
BENCH_LIMITS = {"pike_density": 100_000, "invite_limit": 10_000_000}
SYNC_TIMEOUT_S = 900


def bench_settings(work: Path, database_url: str, instance: str) -> Settings:
    return dataclasses.replace(
        Settings.from_env(),
        state_dir=work,
        database_url=database_url,
        instance=instance,
        node_name="node-1",
        ports=PORTS,
        edge_hosts=(EDGE,),
        node_sip_host=NODE,
        trunk_host=CARRIER,
        edge_sip_port=EDGE_SIP,
        edge_trunk_port=EDGE_TRUNK,
        edge_runtime_dir=Path(f"/tmp/pbx-{instance}-{os.getuid()}"),  # short: unix socket paths
    )


class AgentProcess:
    """`pbx controller` in its own process with the node's settings, as `pbx up` runs it."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PBX_")}
        env.update(settings_env(self.settings))
        env["PBX_NODE_NAME"] = self.settings.node_name
        with open(self.settings.state_dir / "controller.log", "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "pbx.cli", "controller"],
                cwd=REPO_ROOT,
                env=env,
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


class System:
    """Store, node, edge, agent; `stop()` stops all that was started (also after a failure)."""

    def __init__(self, instance: str, store: str = "sqlite", keep: bool = False, edge_overrides: dict | None = None):
        self.work = Path(f"/tmp/pbx-{instance}-work")
        shutil.rmtree(self.work, ignore_errors=True)
        self.work.mkdir(parents=True)
        self.keep = keep
        self.edge_overrides = {**BENCH_LIMITS, **(edge_overrides or {})}
        self.postgres = PostgresServer() if store == "postgresql" else None
        self.instance, self.store = instance, store
        self.local: LocalAsterisk | None = None
        self.edges: list[LocalEdge] = []
        self.agent: AgentProcess | None = None

    def start(self, numbers: int, report=print) -> None:
        url = self.postgres.start() if self.postgres else f"sqlite:///{self.work / 'store.db'}"
        self.settings = settings = bench_settings(self.work, url, self.instance)
        upgrade(url)
        self.factory = make_session_factory(make_engine(url))
        with transaction(self.factory) as session:
            demo.seed(session)
        started = time.monotonic()
        added = bigstore.add_numbers(self.factory, numbers)
        report(
            f"store ({self.store}): {bigstore.number_count(self.factory)} numbers "
            f"({added} added through pbx.services in {time.monotonic() - started:.0f} s)"
        )
        local = LocalAsterisk(settings)
        local.down()
        for state in ("lib", "spool"):  # a fresh AstDB and spool
            shutil.rmtree(local.instance_dir / state, ignore_errors=True)
        started = time.monotonic()
        self.local = start_local_asterisk(settings, self.factory)
        self.edges = [LocalEdge(dataclasses.replace(c, **self.edge_overrides)) for c in edge_configs(settings)]
        for edge in self.edges:
            edge.down()
            edge.up()
        wait_linked(settings, self.local)
        report(
            f"node {NODE}:{PORTS.sip} and edge {EDGE}:{EDGE_SIP}/{EDGE_TRUNK} up in {time.monotonic() - started:.1f} s"
        )
        self.agent = AgentProcess(settings)
        started = time.monotonic()
        self.agent.start()
        self.wait_in_service()
        report(f"agent: first sync done, in service {time.monotonic() - started:.1f} s after its start")

    def in_service(self) -> bool:
        with transaction(self.factory) as session:
            node = session.scalars(select(Node).where(Node.name == self.settings.node_name)).first()
            return node is not None and node.state is NodeState.IN_SERVICE and not has_pending(session, node.name)

    def wait_in_service(self, timeout: float = SYNC_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.in_service():
                return
            if self.agent is not None and self.agent.proc is not None and self.agent.proc.poll() is not None:
                raise RuntimeError(f"the agent exited; see {self.work / 'controller.log'}")
            time.sleep(0.1)
        raise RuntimeError(f"the node is not in service within {timeout} s")

    def asterisk_pid(self) -> int:
        assert self.local is not None
        return int(self.local.status()["pid"])

    def edge_pids(self) -> list[int]:
        """Every Kamailio process of the edge (its process group)."""
        pids = []
        for edge in self.edges:
            leader = edge.status()["pid"]
            for entry in Path("/proc").iterdir():
                if entry.name.isdigit():
                    try:
                        if os.getpgid(int(entry.name)) == leader:
                            pids.append(int(entry.name))
                    except ProcessLookupError:
                        continue
        return pids

    def stop(self) -> None:
        if self.agent is not None:
            self.agent.stop()
        for edge in self.edges:
            edge.down()
        if self.local is not None:
            self.local.down()
        if self.postgres is not None:
            self.postgres.stop()
        if not self.keep:
            shutil.rmtree(self.work, ignore_errors=True)
            if self.edges:
                shutil.rmtree(self.settings.edge_dir, ignore_errors=True)
        else:
            print(f"kept {self.work}")
