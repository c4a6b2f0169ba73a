"""The edges of this machine from the settings: one LocalEdge per PBX_EDGE_HOSTS address,
in front of the Asterisk nodes (PBX_NODES, or the one PBX_NODE_SIP_HOST), with the carrier
(PBX_TRUNK_NAME at PBX_TRUNK_HOST:PBX_TRUNK_OUTBOUND_PORT).

`pbx up`, `pbx edge up` and the test suite all start edges through `local_edges`, so
the single-machine system is the cluster's code path with one edge and one node.
"""

from __future__ import annotations

import time

from pbx.asterisk.local import LocalAsterisk
from pbx.edge.local import EdgeError, LocalEdge
from pbx.edge.render import Carrier, EdgeConfig, Node
from pbx.settings import Settings

READY_TIMEOUT_S = 20.0
POLL_S = 0.1


def edge_configs(settings: Settings) -> list[EdgeConfig]:
    hosts = settings.edge_hosts
    carriers = (Carrier(settings.trunk_name, settings.trunk_host, settings.ports.trunk_outbound),)
    return [
        EdgeConfig(
            name=f"edge-{index}",
            address=host,
            nodes=tuple(Node(host, settings.ports.sip) for host in settings.node_hosts),
            database_url=settings.database_url,
            runtime_dir=settings.edge_dir / f"{settings.cluster_name}-{index}",
            peers=tuple(h for h in hosts if h != host),
            carriers=carriers,
            sip_port=settings.edge_sip_port,
            trunk_port=settings.edge_trunk_port,
            auth_secret=settings.edge_secret or None,
            # A restarted node is given calls again within a second (docs/edge.md, Node selection):
            # one OPTIONS per node per edge per second.
            ping_interval=1,
            gate_nodes=settings.edge_gate_nodes,
        )
        for index, host in enumerate(hosts, start=1)
    ]


def local_edges(settings: Settings) -> list[LocalEdge]:
    return [LocalEdge(config) for config in edge_configs(settings)]


def edges_up(settings: Settings, timeout: float = READY_TIMEOUT_S) -> list[LocalEdge]:
    """Start every edge of the settings (idempotent); a failure stops those started."""
    edges = local_edges(settings)
    try:
        for edge in edges:
            edge.up(timeout=timeout)
    except EdgeError:
        edges_down(settings)
        raise
    return edges


def edges_down(settings: Settings) -> None:
    for edge in local_edges(settings):
        edge.down()


def wait_linked(settings: Settings, node: LocalAsterisk, timeout: float = READY_TIMEOUT_S) -> None:
    """Until the node and its edges see each other: each edge has the node active (its
    OPTIONS probe answered) and the node has each edge's contact reachable (qualify), so
    the first call after `up` neither meets a 503 from the edge nor a CHANUNAVAIL from
    the node."""
    edges = local_edges(settings)
    node_key = f"{settings.node_sip_host}:{settings.ports.sip}"
    deadline = time.monotonic() + timeout
    for index in range(1, len(edges) + 1):
        node.command(f"pjsip qualify pbx-edge-{index}")
    while time.monotonic() < deadline:
        states = [edge.node_states().get(node_key, "") for edge in edges]
        contacts = node.command("pjsip show contacts")
        reachable = sum(
            1 for line in contacts.splitlines() if "pbx-edge-" in line and ("Avail" in line or "Reachable" in line)
        )
        if all(state.upper().startswith("A") for state in states) and reachable >= len(edges):
            return
        time.sleep(POLL_S)
    raise EdgeError(
        f"node {node_key} and the edges do not see each other after {timeout:.0f}s: edge states {states}\n{contacts}"
    )
