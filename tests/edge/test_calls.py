"""Calls across the edge: (c) handset to node with X-PBX-Handset, forged
headers removed; (d) the next node when one fails; (e) carriers on the trunk
port; (f) cluster-wide busy from the dialog profile shared over DMQ."""

from __future__ import annotations

import time

from .conftest import CARRIER, EDGE_1, EDGE_2, NODE_1, NODE_2, STRANGER
from .harness import Uas, place_call, register, start_call
from .test_registrar import wait_dmq_peers

ALICE_IP = "127.0.1.51"
FORGED = {"X-PBX-Handset": "boss", "x-pbx-trunk": "carrier1", "X-Pbx-Call-Waiting": "0"}


def _pbx_headers(invite) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, value in invite.message.headers:
        if name.lower().startswith("x-pbx-"):
            found.setdefault(name.lower(), []).append(value)
    return found


def test_handset_call_reaches_a_node_with_the_authenticated_identity(store, edges):
    store.add_handset("alice", "alice-secret")
    edges.start("edge1", EDGE_1, nodes=edges_nodes(NODE_1))
    with Uas("node1", NODE_1, hold=5) as node:
        result = place_call(
            "2001", ip=ALICE_IP, port=5062, edge=EDGE_1, caller="alice", password="alice-secret", headers=FORGED
        )
        assert result.ok, result
        [invite] = node.wait_invites(1)
        assert invite.request_user == "2001"
        # exactly our header, the forged ones gone (whatever their case)
        assert _pbx_headers(invite) == {"x-pbx-handset": ["alice"]}
        assert invite.header("authorization") is None  # credentials consumed at the edge


def test_wrong_password_never_reaches_a_node(store, edges):
    store.add_handset("alice", "alice-secret")
    edges.start("edge1", EDGE_1, nodes=edges_nodes(NODE_1))
    with Uas("node1", NODE_1, hold=5) as node:
        result = place_call("2001", ip=ALICE_IP, port=5062, edge=EDGE_1, caller="alice", password="wrong", expect=403)
        assert result.ok, result
        time.sleep(0.3)
        assert node.invites == []


def test_failed_node_is_replaced_by_the_next(store, edges):
    """Node 1 is up (answers OPTIONS) but refuses the INVITE with 503: node 2 gets it."""
    store.add_handset("alice", "alice-secret")
    edge = edges.start(
        "edge1", EDGE_1, nodes=edges_nodes(NODE_1, NODE_2), algorithm="priority", ping_interval=60
    )  # (with probing, node 1 is active again at the next OPTIONS)
    with Uas("node1", NODE_1, mode="unavailable") as node1, Uas("node2", NODE_2, hold=5) as node2:
        result = place_call("2001", ip=ALICE_IP, port=5062, edge=EDGE_1, caller="alice", password="alice-secret")
        assert result.ok, result
        assert len(node1.wait_invites(1)) == 1
        [invite] = node2.wait_invites(1)
        assert _pbx_headers(invite) == {"x-pbx-handset": ["alice"]}
        assert edge.node_states()[f"{NODE_1}:5060"].startswith("I")  # marked inactive, probing


def test_silent_node_times_out_to_the_next_and_is_marked_down(store, edges):
    """Nothing listens at node 1: the INVITE times out (node_timeout_ms) and goes to node 2;
    OPTIONS probing keeps node 1 inactive."""
    store.add_handset("alice", "alice-secret")
    edge = edges.start(
        "edge1", EDGE_1, nodes=edges_nodes(NODE_1, NODE_2), algorithm="priority", ping_interval=60
    )  # no probe before the call: the failure route does it
    with Uas("node2", NODE_2, hold=5) as node2:
        started = time.monotonic()
        result = place_call("2001", ip=ALICE_IP, port=5062, edge=EDGE_1, caller="alice", password="alice-secret")
        assert result.ok, result
        assert len(node2.wait_invites(1)) == 1
        assert time.monotonic() - started < 10
        assert edge.node_states()[f"{NODE_1}:5060"].startswith("I")


def test_disabled_node_gets_no_calls(store, edges):
    """set_node_state(active=False): e.g. a node whose agent has not caught up."""
    store.add_handset("alice", "alice-secret")
    edge = edges.start("edge1", EDGE_1, nodes=edges_nodes(NODE_1, NODE_2), algorithm="priority")
    with Uas("node1", NODE_1, hold=5) as node1, Uas("node2", NODE_2, hold=5) as node2:
        edge.set_node_state(NODE_1, active=False)
        time.sleep(1.5)  # a probe interval: probing must not bring it back
        assert edge.node_states()[f"{NODE_1}:5060"].startswith("D")
        result = place_call("2001", ip=ALICE_IP, port=5062, edge=EDGE_1, caller="alice", password="alice-secret")
        assert result.ok, result
        assert len(node2.wait_invites(1)) == 1
        assert node1.invites == []
        edge.set_node_state(NODE_1, active=True)
        result = place_call("2002", ip=ALICE_IP, port=5064, edge=EDGE_1, caller="alice", password="alice-secret")
        assert result.ok, result
        assert len(node1.wait_invites(1)) == 1


def test_carrier_call_in_is_labelled_and_stranger_refused(store, edges):
    edges.start("edge1", EDGE_1, nodes=edges_nodes(NODE_1))
    with Uas("node1", NODE_1, hold=5) as node:
        result = place_call(
            "+442079460000",
            ip=CARRIER,
            port=5060,
            edge=EDGE_1,
            edge_port=5080,
            caller="+441234567890",
            headers={"X-PBX-Trunk": "other", "X-PBX-Handset": "boss"},
        )
        assert result.ok, result
        [invite] = node.wait_invites(1)
        assert invite.request_user == "+442079460000"
        assert _pbx_headers(invite) == {"x-pbx-trunk": ["carrier1"]}

        stranger = place_call(
            "+442079460000", ip=STRANGER, port=5060, edge=EDGE_1, edge_port=5080, caller="+441234567890", expect=403
        )
        assert stranger.ok, stranger
        time.sleep(0.3)
        assert len(node.invites) == 1


def test_node_call_out_goes_to_the_named_carrier_without_our_headers(store, edges):
    edges.start("edge1", EDGE_1, nodes=edges_nodes(NODE_1))
    with Uas("carrier1", CARRIER, hold=5) as carrier:
        result = place_call(
            "+15551234567",
            ip=NODE_1,
            port=5070,
            edge=EDGE_1,
            caller="+442079460000",
            headers={"X-PBX-Trunk": "carrier1"},
        )
        assert result.ok, result
        [invite] = carrier.wait_invites(1)
        assert invite.request_user == "+15551234567"
        assert _pbx_headers(invite) == {}
        assert invite.message.header("via").startswith(f"SIP/2.0/UDP {EDGE_1}:5080")  # from the trunk port
    unknown = place_call(
        "+15551234567",
        ip=NODE_1,
        port=5072,
        edge=EDGE_1,
        caller="+442079460000",
        headers={"X-PBX-Trunk": "nobody"},
        expect=404,
    )
    assert unknown.ok, unknown


def test_node_call_to_unregistered_handset_is_480(store, edges):
    store.add_handset("alice", "alice-secret")
    edges.start("edge1", EDGE_1, nodes=edges_nodes(NODE_1))
    result = place_call("alice", ip=NODE_1, port=5070, edge=EDGE_1, caller="node1", expect=480)
    assert result.ok, result


def test_busy_handset_cluster_wide(store, edges):
    """alice is on a call through edge 1; a node asks edge 2 to ring her:
    with X-PBX-Call-Waiting: 0 edge 2 answers 486 itself, with 1 she rings."""
    store.add_handset("alice", "alice-secret")
    edge1 = edges.start("edge1", EDGE_1, peers=(EDGE_2,), nodes=edges_nodes(NODE_1))
    edge2 = edges.start("edge2", EDGE_2, peers=(EDGE_1,), nodes=edges_nodes(NODE_1))
    wait_dmq_peers(edge1, edge2)
    assert register("alice", "alice-secret", ip=ALICE_IP, edge=EDGE_1).ok
    _wait(lambda: edge2.registered_contacts("alice"), "alice's contact at edge 2")

    with Uas("alice", ALICE_IP, hold=15) as alice:
        first = start_call(
            "alice", ip=NODE_1, port=5070, edge=EDGE_1, caller="first", hold=8, headers={"X-PBX-Call-Waiting": "0"}
        )
        assert len(alice.wait_invites(1)) == 1
        _wait(lambda: edge2.handset_calls("alice") == 1, "alice's dialog at edge 2")

        busy = place_call(
            "alice", ip=NODE_1, port=5072, edge=EDGE_2, caller="second", headers={"X-PBX-Call-Waiting": "0"}, expect=486
        )
        assert busy.ok, busy
        assert len(alice.invites) == 1  # the edge answered, alice never saw it

        waiting = place_call(
            "alice", ip=NODE_1, port=5074, edge=EDGE_2, caller="third", hold=1, headers={"X-PBX-Call-Waiting": "1"}
        )
        assert waiting.ok, waiting
        assert len(alice.invites) == 2
        assert first.wait().ok

    # the calls are over: no longer busy anywhere
    _wait(
        lambda: edge2.handset_calls("alice") == 0 and edge1.handset_calls("alice") == 0,
        "alice's dialogs gone at both edges",
    )
    with Uas("alice", ALICE_IP, hold=5) as alice:
        free = place_call(
            "alice", ip=NODE_1, port=5076, edge=EDGE_2, caller="fourth", headers={"X-PBX-Call-Waiting": "0"}
        )
        assert free.ok, free


def test_busy_counts_calls_the_handset_makes(store, edges):
    """alice calling out through the edge is busy for calls in (same edge)."""
    store.add_handset("alice", "alice-secret")
    edge = edges.start("edge1", EDGE_1, nodes=edges_nodes(NODE_1))
    assert register("alice", "alice-secret", ip=ALICE_IP, edge=EDGE_1).ok
    with Uas("node1", NODE_1, hold=15) as node:
        out = start_call("2001", ip=ALICE_IP, port=5062, edge=EDGE_1, caller="alice", password="alice-secret", hold=6)
        assert len(node.wait_invites(1)) == 1
        _wait(lambda: edge.handset_calls("alice") == 1, "alice's outgoing dialog")
        busy = place_call(
            "alice", ip=NODE_1, port=5072, edge=EDGE_1, caller="second", headers={"X-PBX-Call-Waiting": "0"}, expect=486
        )
        assert busy.ok, busy
        assert out.wait().ok


def edges_nodes(*addresses):
    from pbx.edge.render import Node

    return tuple(Node(a) for a in addresses)


def _wait(check, what: str, timeout: float = 8.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
