"""Issue 9 on real processes: `pbx up --nodes 2` (two Asterisks from the chroot, each with its
agent, two Kamailio edges sharing registrations over DMQ, the web UI) on a PostgreSQL store
started here, and what the cluster does when a part of it fails.

- A handset on a call through node 1 is busy for a call arriving on node 2 (call waiting
  off) and rings the second call with call waiting on: the edges' shared dialog profile.
- `kill -9` of one Asterisk during a run of calls: new calls succeed through the other, the
  handset's registration stays, and the restarted node is disabled at the edges until its
  agent has caught up (the changes made while it was away), then enabled.
- One edge killed: a call through the other reaches a handset that registered at the dead one.
- `kill -9` of one node's agent: its Asterisk still answers the edges' probes but no longer
  follows the change log; the other agent disables it at both edges once its heartbeat is
  silent, and the restarted agent enables it again once caught up.

Address plan (beside the suite's 127.0.0.x/127.0.1.1): nodes 127.0.3.1-2, edges
127.0.3.101-102, the carrier 127.0.3.201; ports PBX_TEST_FAILOVER_PORT_BASE (45000) + 60 (SIP),
+38 (AMI), +3088 (HTTP), +98 (carrier), +160/+180 (edges), +3000 (web); RTP +1000..+2999.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from pbx import cluster
from pbx.asterisk.live_state import FAMILY
from pbx.asterisk.local import LocalAsterisk
from pbx.asterisk.peers import SILENT_AFTER
from pbx.edge.gate import REASSERT_S, is_enabled
from pbx.edge.system import local_edges
from pbx.processes import Background
from pbx.services import features
from pbx.services.actor import Actor
from pbx.settings import Settings
from pbx.store import Node, NodeState, PhoneNumber, make_engine, make_session_factory, transaction
from tests.cluster import AmiReader, wait_until
from tests.postgres_server import fresh_database
from tests.sip import sipp
from tests.sip.call import start_call
from tests.sip.handset import Handset
from tests.world import OUTSIDE_CALLER

pytestmark = pytest.mark.asterisk
BASE = int(os.environ.get("PBX_TEST_FAILOVER_PORT_BASE", "45000"))
NET = os.environ.get("PBX_TEST_FAILOVER_NET", "127.0.3")
ANOTHER_CALLER = "+447700900456"
UP_TIMEOUT_S = 300
CHANGES_WHILE_DOWN = 20


def _pbx(env: dict[str, str], *args: str, timeout: float = UP_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pbx.cli", *args], env=env, capture_output=True, text=True, timeout=timeout
    )


class System:
    def __init__(self, env: dict[str, str], data: dict, plan: Settings) -> None:
        self.env, self.data, self.plan = env, data, plan
        self.nodes = cluster.nodes_of(plan)
        self.edges = local_edges(plan)
        self.factory = make_session_factory(make_engine(plan.database_url))

    def via(self, edge: int) -> Settings:
        """Settings whose first edge is edge `edge` (0-based): handsets and the carrier use it."""
        hosts = self.plan.edge_hosts
        return replace(self.nodes[0], edge_hosts=(hosts[edge], *[h for h in hosts if h != hosts[edge]]))

    def desk(self, number: dict, edge: int = 0, **options) -> Handset:
        h = next(h for h in self.data["handsets"] if h["phone_id"] == number["handset"])
        return Handset(self.via(edge), h["sip_username"], h["sip_password"], **options)

    def call(self, to: str, edge: int = 0, **options):
        return start_call(self.via(edge), to, caller=options.pop("caller", OUTSIDE_CALLER), trunk=True, **options)

    def set_features(self, number: dict, **changes) -> None:
        with transaction(self.factory) as session:
            features.update_features(session, Actor.system("test"), number["id"], changes)

    def node_key(self, index: int) -> str:
        return f"{self.nodes[index].node_sip_host}:{self.nodes[index].ports.sip}"

    def states(self, index: int) -> list[str]:
        """Node `index`'s dispatcher state at each running edge."""
        return [edge.node_states(timeout=2).get(self.node_key(index), "") for edge in self.edges if edge.is_running()]

    def node_row(self, index: int) -> NodeState | None:
        with transaction(self.factory) as session:
            row = session.get(Node, self.nodes[index].node_name)
            return row.state if row else None

    def agent_pid(self, index: int) -> int:
        run = cluster.run_dir(self.plan)
        return int((run / f"controller-{self.nodes[index].node_name}.pid").read_text())

    def channels(self, index: int) -> int:
        out = LocalAsterisk(self.nodes[index]).command("core show channels concise")
        return len([line for line in out.splitlines() if "!" in line])


@pytest.fixture(scope="module")
def system(tmp_path_factory, postgres_url):
    state = tmp_path_factory.mktemp("failover")
    sipp.set_work_root(tmp_path_factory.mktemp("failover-sipp"))
    url = fresh_database(postgres_url, "pbx_failover")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PBX_")},
        "PBX_CACHE_DIR": os.environ.get("PBX_CACHE_DIR", str(Path.home() / ".cache/pbx")),
        "PBX_STATE_DIR": str(state),
        "PBX_DATABASE_URL": url,
        "PBX_INSTANCE": "failover",
        "PBX_NODES": f"{NET}.1,{NET}.2",
        "PBX_NODE_SIP_HOST": f"{NET}.1",
        "PBX_EDGE_HOSTS": f"{NET}.101,{NET}.102",
        "PBX_TRUNK_HOST": f"{NET}.201",
        "PBX_SIP_PORT": str(BASE + 60),
        "PBX_AMI_PORT": str(BASE + 38),
        "PBX_HTTP_PORT": str(BASE + 3088),
        "PBX_TRUNK_OUTBOUND_PORT": str(BASE + 98),
        "PBX_EDGE_SIP_PORT": str(BASE + 160),
        "PBX_EDGE_TRUNK_PORT": str(BASE + 180),
        "PBX_EDGE_RUNTIME_DIR": f"/tmp/pbx-failover-{os.getuid()}",
        "PBX_WEB_PORT": str(BASE + 3000),
        "PBX_RTP_PORTS": f"{BASE + 1000}-{BASE + 2999}",
    }
    up = _pbx(env, "up", "--nodes", "2")
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        data = json.loads(_pbx(env, "demo", "--json").stdout)
        plan = cluster.running(Settings.from_env(env))
        yield System(env, data, plan)
    finally:
        sipp.kill_all()
        down = _pbx(env, "down", timeout=120)
        assert down.returncode == 0, down.stdout + down.stderr


def acme(system: System, extension: str) -> dict:
    return next(n for n in system.data["numbers"] if n["extension"] == extension and n["occupier"] == "Acme Ltd")


def wait_applied(system: System, number: dict, key: str, value: str, timeout: float = 15) -> None:
    reader = AmiReader(system.nodes)
    try:
        wait_until(
            lambda: reader.get_all(FAMILY, f"num/{number['id']}/{key}") == [value, value],
            timeout,
            f"{key}={value} on both nodes",
        )
    finally:
        reader.close()


def test_up_runs_two_nodes_behind_two_edges_each_enabled_by_its_agent(system):
    assert [e["host"] for e in system.data["edges"]] == list(system.plan.edge_hosts)
    for index in (0, 1):
        assert all(s.startswith("A") for s in system.states(index)), system.states(index)
        assert system.node_row(index) is NodeState.IN_SERVICE


def _steered(system: System, node: int):
    """While the other node's agent is paused and that node disabled: calls go to `node`."""
    other = 1 - node

    class Steer:
        def __enter__(self) -> None:
            os.kill(system.agent_pid(other), signal.SIGSTOP)
            for edge in system.edges:
                edge.set_node_state(system.nodes[other].node_sip_host, False, system.nodes[other].ports.sip)

        def __exit__(self, *exc) -> None:
            os.kill(system.agent_pid(other), signal.SIGCONT)  # its gate enables it again
            wait_until(lambda: all(is_enabled(s) for s in system.states(other)), 10, "re-enabled by its agent")

    return Steer()


def test_a_handset_on_a_call_through_node_1_is_busy_on_node_2_unless_call_waiting(system):
    alice = acme(system, "201")
    system.set_features(alice, call_waiting="off", voicemail="off")
    wait_applied(system, alice, "cw", "")
    for waiting, expect in (("off", 486), ("on", 200)):
        if waiting == "on":
            system.set_features(alice, call_waiting="on")
            wait_applied(system, alice, "cw", "1")
        with system.desk(alice, calls=2, hold=8) as desk:
            with _steered(system, 0):
                first = system.call(alice["number"], hold=5)
                desk.wait_invites(1, 10)
                wait_until(lambda: system.edges[0].handset_calls(alice["handset"]) == 1, 10, "alice on a call")
            assert system.channels(0) >= 1 and system.channels(1) == 0
            with _steered(system, 1):
                second = system.call(alice["number"], caller=ANOTHER_CALLER, expect=expect, hold=1).wait()
            assert second.status == expect, (waiting, second)
            assert first.wait().ok
        assert len(desk.invites) == (2 if waiting == "on" else 1), waiting
        wait_until(lambda: all(s.startswith("A") for s in system.states(0) + system.states(1)), 10, "both enabled")


def test_kill_9_of_a_node_during_calls_then_it_rejoins_only_once_caught_up(system):
    alice, bob = acme(system, "201"), acme(system, "202")
    victim = LocalAsterisk(system.nodes[1])
    results = []
    with system.desk(alice, calls=12, hold=1, timeout=120) as desk:
        for _ in range(2):  # both nodes take calls
            results.append(system.call(alice["number"], hold=0.5).wait())
        assert all(r.ok for r in results), results
        pid = victim._read_pid()
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        killed_at = time.monotonic()
        # The agent loses its AMI session at once and disables its node at both edges.
        wait_until(lambda: not any(is_enabled(s) for s in system.states(1)), 5, "node 2 disabled")
        after = [system.call(alice["number"], hold=0.5).wait() for _ in range(4)]
        assert all(r.ok for r in after), after
        assert time.monotonic() - killed_at < 30
        # The registration is the edges', not the node's: it stays, at both edges (DMQ).
        for edge in system.edges:
            assert edge.registered_contacts(desk.phone_id), edge.config.name
        # Changes made while node 2 is away wait for its agent in the change log.
        for i in range(CHANGES_WHILE_DOWN):
            system.set_features(bob, dnd="on" if i % 2 == 0 else "off")
        system.set_features(bob, dnd="on")
        # Restart: disabled at the edges until its agent has replayed them, then enabled.
        samples: list[tuple[list[str], NodeState | None]] = []
        victim.up()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            states = system.states(1)  # the edges first, then the store: see below
            samples.append((states, system.node_row(1)))
            if states and all(s.startswith("A") for s in states):
                break
            time.sleep(0.02)
        assert samples[-1][0] and all(s.startswith("A") for s in samples[-1][0]), samples[-5:]
        # Never enabled at an edge before its agent said it is in service (the store's row is
        # written before the edges are told, and read here after them).
        early = [(s, row) for s, row in samples if any(is_enabled(x) for x in s) and row is not NodeState.IN_SERVICE]
        assert early == [], early
        assert not any(is_enabled(x) for x in samples[0][0]), samples[0]
        reader = AmiReader([system.nodes[1]])
        try:
            assert reader.get(0, FAMILY, f"num/{bob['id']}/dnd") == "1"
        finally:
            reader.close()
        more = [system.call(alice["number"], hold=0.5).wait() for _ in range(2)]
        assert all(r.ok for r in more), more
    with transaction(system.factory) as session:
        number = session.scalar(select(PhoneNumber).where(PhoneNumber.id == bob["id"]))
        assert number is not None and number.status.value == "active"


def test_one_edge_killed_a_handset_stays_reachable_through_the_other(system):
    alice = acme(system, "201")
    dead = system.edges[0]
    with system.desk(alice, edge=0, calls=1, hold=1) as desk:
        wait_until(lambda: system.edges[1].registered_contacts(desk.phone_id), 10, "registration shared over DMQ")
        pid = dead._read_pid()
        assert pid is not None
        os.killpg(pid, signal.SIGKILL)
        wait_until(lambda: not dead.is_running(), 10, "edge 1 gone")
        # The nodes see edge 1 unreachable (qualify) and ring through edge 2.
        for node in system.nodes:
            wait_until(
                lambda node=node: any(
                    "pbx-edge-1" in line and "Unavail" in line
                    for line in LocalAsterisk(node).command("pjsip show contacts").splitlines()
                ),
                20,
                f"{node.node_name} sees edge 1 down",
            )
        result = system.call(alice["number"], edge=1, hold=0.5).wait()
        assert result.ok, result
        desk.wait_invites(1, 10)
    assert len(desk.invites) == 1
    dead.up()  # for `pbx down`: it finds its edges as it left them


def test_kill_9_of_an_agent_the_other_agent_disables_its_node_until_it_is_back(system):
    alice = acme(system, "201")
    name = system.nodes[1].node_name
    os.kill(system.agent_pid(1), signal.SIGKILL)
    killed_at = time.monotonic()
    limit = SILENT_AFTER.total_seconds() + 2 * REASSERT_S + 15  # heartbeat, a round, a busy machine
    wait_until(lambda: not any(is_enabled(s) for s in system.states(1)), limit, "node 2 disabled by node 1's agent")
    assert time.monotonic() - killed_at >= SILENT_AFTER.total_seconds() - 6  # its heartbeat was fresh
    assert all(is_enabled(s) for s in system.states(0))
    with system.desk(alice, calls=3, hold=1, timeout=60):
        results = [system.call(alice["number"], hold=0.5).wait() for _ in range(3)]
    assert all(r.ok for r in results), results
    assert system.channels(1) == 0
    # Restarted as `pbx up` runs it: it catches up, then enables its node itself.
    Background(cluster.run_dir(system.plan), f"controller-{name}").start(
        ["controller"], env={**system.env, **cluster.env(system.plan, name)}
    )
    wait_until(lambda: all(s.startswith("A") for s in system.states(1)), 60, "node 2 enabled by its own agent")
    assert system.node_row(1) is NodeState.IN_SERVICE
