"""Issue 9 on real Asterisks: N nodes (default 3), each with its own agent, share one store
(SQLite, then PostgreSQL). A change reaches every node's AstDB; an agent stopped while 100
changes are made replays each of them exactly once on restart, and is in service again only
once caught up."""

from __future__ import annotations

import dataclasses
import os
from collections import Counter

import pytest
from sqlalchemy import select

from pbx import demo
from pbx.asterisk import sync
from pbx.asterisk.live_state import FAMILY, live_state
from pbx.asterisk.snapshot import load_snapshot
from pbx.services import features
from pbx.services.actor import Actor
from pbx.services.guards import why_read_only
from pbx.store import (
    Node,
    NodeState,
    NumberStatus,
    OutboxEntry,
    PhoneNumber,
    make_engine,
    make_session_factory,
    transaction,
)
from pbx.store.migrate import upgrade
from tests.cluster import Agent, AmiReader, node_settings, start_asterisks, wait_until
from tests.postgres_server import database_name, fresh_database
from tests.sip.instance import settings_for_tests

pytestmark = pytest.mark.asterisk
NODES = int(os.environ.get("PBX_TEST_CLUSTER_NODES", "3"))
PORT_BASE = int(os.environ.get("PBX_TEST_CLUSTER_PORT_BASE", "40000"))  # node i: base + 1000*i + 60/38/88/98
SYNC_TIMEOUT_S = 60
LIVE_TIMEOUT_S = 5
CHANGES = 100


@pytest.fixture(scope="module")
def node_asterisks(tmp_path_factory):
    base = settings_for_tests(tmp_path_factory.mktemp("cluster"))
    settings = [
        node_settings(base, base.instance, i, PORT_BASE, base.state_dir, "sqlite://") for i in range(1, NODES + 1)
    ]
    try:
        locals_ = start_asterisks(settings)
    except Exception as error:  # noqa: BLE001 (fail loudly, never skip)
        pytest.fail(f"the cluster's Asterisks could not be started: {error}", pytrace=False)
    yield settings
    for local in locals_:
        local.down()


@pytest.fixture(params=["sqlite", "postgresql"])
def cluster(request, node_asterisks, tmp_path):
    """The nodes' settings on a fresh demo store, their AMI readers; every agent stopped afterwards."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
    else:
        url = fresh_database(request.getfixturevalue("postgres_url"), database_name(tmp_path))
    upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        demo.seed(session)
    c = Cluster([dataclasses.replace(s, database_url=url) for s in node_asterisks], factory)
    yield c
    c.close()
    engine.dispose()


class Cluster:
    def __init__(self, settings, factory) -> None:
        self.settings, self.factory = settings, factory
        self.applied: Counter = Counter()
        self.events: list = []
        self.agents = [Agent(s, self.applied, self.events) for s in settings]
        self.ami = AmiReader(settings)

    def start_all(self) -> None:
        for agent in self.agents:
            agent.start()
        wait_until(lambda: all(a.controller.in_service for a in self.agents), SYNC_TIMEOUT_S, "all nodes in service")

    def number_id(self, e164: str) -> int:
        with transaction(self.factory) as session:
            return session.scalar(select(PhoneNumber.id).where(PhoneNumber.e164 == e164))

    def change(self, number_id: int, **changes) -> None:
        with transaction(self.factory) as session:
            features.update_features(session, Actor.system("test"), number_id, changes)

    def status(self, number_id: int) -> NumberStatus:
        with transaction(self.factory) as session:
            return session.get(PhoneNumber, number_id).status

    def close(self) -> None:
        for agent in self.agents:
            agent.close()
        self.ami.close()


def test_a_feature_change_reaches_every_node(cluster):
    cluster.start_all()
    alice = cluster.number_id("+442079460201")
    cluster.change(alice, dnd="on", no_answer_seconds=25)
    wait_until(
        lambda: cluster.ami.get_all(FAMILY, f"num/{alice}/dnd") == ["1"] * NODES,
        LIVE_TIMEOUT_S,
        "DND live on every node",
    )
    assert cluster.ami.get_all(FAMILY, f"num/{alice}/ring") == ["25"] * NODES
    wait_until(lambda: cluster.status(alice) is NumberStatus.ACTIVE, LIVE_TIMEOUT_S, "Active")
    with transaction(cluster.factory) as session:
        nodes = {n.name: n.state for n in session.scalars(select(Node))}
    assert nodes == {f"node-{i}": NodeState.IN_SERVICE for i in range(1, NODES + 1)}


def test_an_agent_stopped_while_100_changes_are_made_replays_each_once_then_is_in_service(cluster):
    cluster.start_all()
    late = cluster.agents[-1]
    name = late.settings.node_name
    numbers = [n.id for n in _live_numbers(cluster.factory)][:10]
    assert len(numbers) >= 5
    late.stop()
    assert ("behind", name) in cluster.events  # the edge is told: no calls for it
    with transaction(cluster.factory) as session:
        first_row = session.scalar(select(OutboxEntry.id).order_by(OutboxEntry.id.desc()).limit(1)) or 0
    for i in range(CHANGES):  # 100 changes spread over the numbers; each ends on its own value
        cluster.change(numbers[i % len(numbers)], no_answer_seconds=10 + i)
    with transaction(cluster.factory) as session:
        rows = list(session.scalars(select(OutboxEntry.id).where(OutboxEntry.id > first_row)))
        assert session.get(Node, name).state is NodeState.DOWN
    assert len(rows) == CHANGES
    others = [a.settings.node_name for a in cluster.agents[:-1]]
    wait_until(
        lambda: all(cluster.applied[(n, r)] for n in others for r in rows),
        SYNC_TIMEOUT_S,
        "the other nodes applied every change",
    )
    assert not any(cluster.applied[(name, r)] for r in rows)
    # The numbers wait for no node out of service: Active once the others have them.
    wait_until(lambda: all(cluster.status(n) is NumberStatus.ACTIVE for n in numbers), LIVE_TIMEOUT_S, "Active")

    events_before = len(cluster.events)
    controller = late.start()
    wait_until(lambda: controller.in_service, SYNC_TIMEOUT_S, "the late node caught up")
    assert (controller.full_syncs, controller.replays) == (0, 1)  # replayed from its cursor
    assert cluster.events[events_before:] == [("caught_up", name)]
    # Nothing lost, nothing doubled: every row applied exactly once by every node.
    for node in [*others, name]:
        assert [cluster.applied[(node, r)] for r in rows] == [1] * CHANGES, node
    index = cluster.settings.index(late.settings)
    for k, n in enumerate(numbers):  # each number's last value, on the late node
        last = max(i for i in range(CHANGES) if i % len(numbers) == k)
        assert cluster.ami.get(index, FAMILY, f"num/{n}/ring") == str(10 + last)
    with transaction(cluster.factory) as session:
        wanted = live_state(load_snapshot(session))
    assert cluster.ami.run(sync.current_live_state(cluster.ami.amis[index])) == wanted


def _live_numbers(factory) -> list[PhoneNumber]:
    with transaction(factory) as session:
        return [
            n
            for n in session.scalars(
                select(PhoneNumber).where(PhoneNumber.status == NumberStatus.ACTIVE).order_by(PhoneNumber.id)
            )
            if why_read_only(n) is None
        ]
