"""The cluster `pbx up` runs on this machine: its address plan, each process's environment,
and the layout it leaves in the state folder for `pbx down` and `pbx demo --json`.

Address plan (loopback, any 127/8 address binds with no setup; docs/architecture.md):
- node i (i = 1..N): SIP, AMI and ARI on PBX_NODES[i-1], else PBX_NODE_SIP_HOST's last
  octet + i - 1 (127.0.1.1, 127.0.1.2, ...), the same ports on every node, its share of
  PBX_RTP_PORTS; its Asterisk is the local instance `<PBX_INSTANCE>-node-i`.
- edges: PBX_EDGE_HOSTS; with more than one node and one edge listed, a second edge on the
  next free address (127.0.0.1 and 127.0.0.2), the two sharing registrations over DMQ
  and a nonce secret (PBX_EDGE_SECRET, else generated once into the state folder).
- the carrier stays PBX_TRUNK_HOST (127.0.0.3), the web UI PBX_WEB_HOST:PBX_WEB_PORT.
One node is the same plan with N = 1: the settings as they are.
"""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
from dataclasses import replace
from pathlib import Path

from pbx.settings import Settings, SettingsError

LAYOUT = "cluster.json"
SECRET_FILE = "edge-secret"
MAX_NODES = 9


def run_dir(settings: Settings) -> Path:
    return settings.state_dir / "run"


def _next_free(start: str, taken: set[str]) -> str:
    address = ipaddress.IPv4Address(start)
    while str(address) in taken:
        address += 1
    return str(address)


def plan(settings: Settings, count: int | None = None) -> Settings:
    """The cluster's settings for `count` nodes (None: as PBX_NODES says, else one), the edges
    gating the nodes on their agents. Node i's own settings: .for_node(f"node-{i}")."""
    base = settings.cluster or settings
    count = count if count is not None else max(len(base.nodes), 1)
    if not 1 <= count <= MAX_NODES:
        raise SettingsError("PBX_NODES", f"a local cluster has 1 to {MAX_NODES} nodes, not {count}")
    if count == 1 and len(base.nodes) <= 1:
        nodes: tuple[str, ...] = ()
        node_host = base.nodes[0] if base.nodes else base.node_sip_host
    elif len(base.nodes) >= count:
        nodes, node_host = base.nodes[:count], base.nodes[0]
    else:
        first = ipaddress.IPv4Address(base.nodes[0] if base.nodes else base.node_sip_host)
        nodes, node_host = tuple(str(first + i) for i in range(count)), str(first)
    edges = base.edge_hosts
    if count > 1 and len(edges) == 1:
        edges = (*edges, _next_free(edges[0], {*edges, *nodes, node_host, base.trunk_host}))
    secret = base.edge_secret or (edge_secret(base) if len(edges) > 1 else "")
    cluster = replace(
        base, nodes=nodes, node_sip_host=node_host, edge_hosts=edges, edge_secret=secret, edge_gate_nodes=True
    )
    return cluster


def nodes_of(cluster: Settings) -> list[Settings]:
    """Each node's settings, node-1 first."""
    return [cluster.for_node(name) for name in cluster.node_names]


def edge_secret(settings: Settings) -> str:
    """The edges' shared nonce secret, generated once into the state folder (mode 0600)."""
    path = settings.state_dir / SECRET_FILE
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(16)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.write(value + "\n")
    return value


def env(cluster: Settings, name: str | None = None) -> dict[str, str]:
    """The variables a process of the cluster starts with (on top of ours), as node `name`."""
    extra = {
        "PBX_NODES": ",".join(cluster.nodes),
        "PBX_NODE_SIP_HOST": cluster.node_sip_host,
        "PBX_EDGE_HOSTS": ",".join(cluster.edge_hosts),
        "PBX_EDGE_SECRET": cluster.edge_secret,
        "PBX_EDGE_GATE_NODES": "1" if cluster.edge_gate_nodes else "0",
    }
    if name is not None:
        extra["PBX_NODE_NAME"] = name
    return extra


def save(cluster: Settings) -> None:
    """What `pbx up` runs, for `pbx down` and `pbx demo --json` (read by `running`)."""
    folder = run_dir(cluster)
    folder.mkdir(parents=True, exist_ok=True)
    layout = {
        "nodes": list(cluster.nodes),
        "node_sip_host": cluster.node_sip_host,
        "edge_hosts": list(cluster.edge_hosts),
        "edge_gate_nodes": cluster.edge_gate_nodes,
    }
    (folder / LAYOUT).write_text(json.dumps(layout, indent=1) + "\n")


def running(settings: Settings) -> Settings:
    """The cluster `pbx up` started with these settings (its layout file), else the settings."""
    base = settings.cluster or settings
    try:
        layout = json.loads((run_dir(base) / LAYOUT).read_text())
    except (OSError, ValueError):
        return settings
    edges = tuple(layout["edge_hosts"])
    return replace(
        base,
        nodes=tuple(layout["nodes"]),
        node_sip_host=layout["node_sip_host"],
        edge_hosts=edges,
        edge_secret=base.edge_secret or (edge_secret(base) if len(edges) > 1 else ""),
        edge_gate_nodes=bool(layout["edge_gate_nodes"]),
    )


def forget(settings: Settings) -> None:
    (run_dir(settings.cluster or settings) / LAYOUT).unlink(missing_ok=True)
