"""PBX_NODES / PBX_RTP_PORTS / PBX_EDGE_GATE_NODES and the address plan of `pbx up --nodes N`."""

from __future__ import annotations

import pytest

from pbx import cluster
from pbx.edge.render import render_dispatcher_list
from pbx.edge.system import edge_configs
from pbx.settings import Settings, SettingsError

CLUSTER = {"PBX_NODES": "127.0.3.1,127.0.3.2", "PBX_EDGE_HOSTS": "127.0.3.101,127.0.3.102"}


def test_one_node_defaults_are_unchanged():
    s = Settings.from_env({})
    assert (s.node_hosts, s.instance, s.rtp_ports, s.edge_gate_nodes) == (("127.0.1.1",), "dev", (20000, 29999), False)


def test_a_cluster_node_gets_its_address_instance_and_rtp_share():
    s = Settings.from_env({**CLUSTER, "PBX_NODE_NAME": "node-2", "PBX_RTP_PORTS": "40000-41999"})
    assert (s.node_sip_host, s.asterisk_host, s.instance, s.rtp_ports) == (
        "127.0.3.2",
        "127.0.3.2",
        "dev-node-2",
        (41000, 41999),
    )
    assert s.cluster_name == "dev" and s.for_node("node-1").node_sip_host == "127.0.3.1"
    # Every edge dispatches over both nodes, from the cluster's folders.
    (first, _) = edge_configs(s)
    assert [n.address for n in first.nodes] == ["127.0.3.1", "127.0.3.2"]
    assert first.runtime_dir.name == "dev-1"


@pytest.mark.parametrize(
    "env",
    [
        {**CLUSTER, "PBX_NODE_NAME": "node-3"},
        {**CLUSTER, "PBX_NODES": "127.0.3.1,127.0.3.101"},
        {"PBX_RTP_PORTS": "30000-20000"},
    ],
)
def test_bad_cluster_settings_are_refused(env):
    with pytest.raises(SettingsError):
        Settings.from_env(env)


def test_pbx_up_nodes_plans_two_edges_and_gated_nodes(tmp_path):
    plan = cluster.plan(Settings.from_env({"PBX_STATE_DIR": str(tmp_path)}), 3)
    assert plan.nodes == ("127.0.1.1", "127.0.1.2", "127.0.1.3")
    assert plan.edge_hosts == ("127.0.0.1", "127.0.0.2") and len(plan.edge_secret) == 32
    assert [n.node_name for n in cluster.nodes_of(plan)] == ["node-1", "node-2", "node-3"]
    assert " 4 " in render_dispatcher_list(edge_configs(plan)[0]).splitlines()[1]  # disabled until caught up
    one = cluster.plan(Settings.from_env({"PBX_STATE_DIR": str(tmp_path)}))
    assert (one.nodes, one.edge_hosts, [n.instance for n in cluster.nodes_of(one)]) == ((), ("127.0.0.1",), ["dev"])
