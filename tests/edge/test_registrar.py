"""(a) Handsets register at the edge with digest auth against the store's view,
(b) and a registration at one edge is found through the other (dmq_usrloc)."""

from __future__ import annotations

import time

from .conftest import EDGE_1, EDGE_2, NODE_1
from .harness import Uas, register, start_call

ALICE_IP = "127.0.1.51"


def test_register_with_the_store_password(store, edges):
    store.add_handset("alice", "alice-secret")
    edge = edges.start("edge1", EDGE_1)
    result = register("alice", "alice-secret", ip=ALICE_IP, edge=EDGE_1)
    assert result.ok, result
    assert result.statuses == [401, 200]
    assert edge.registered_contacts("alice") == [f"sip:alice@{ALICE_IP}:5060"]


def test_wrong_password_and_unknown_user_are_refused(store, edges):
    store.add_handset("alice", "alice-secret")
    edge = edges.start("edge1", EDGE_1)
    wrong = register("alice", "guess", ip=ALICE_IP, edge=EDGE_1)
    assert wrong.statuses == [401, 403], wrong
    unknown = register("mallory", "whatever", ip="127.0.1.52", edge=EDGE_1)
    assert unknown.statuses == [401, 403], unknown
    assert edge.registered_contacts("alice") == []


def test_a_handset_added_later_registers_with_no_reload(store, edges):
    edges.start("edge1", EDGE_1)
    before = register("bob", "bob-secret", ip="127.0.1.53", edge=EDGE_1)
    assert before.statuses == [401, 403], before
    store.add_handset("bob", "bob-secret")  # another process writes the WAL-mode SQLite file
    after = register("bob", "bob-secret", ip="127.0.1.53", edge=EDGE_1)
    assert after.ok, after


def test_registration_at_one_edge_is_found_through_the_other(store, edges):
    store.add_handset("alice", "alice-secret")
    edge1 = edges.start("edge1", EDGE_1, peers=(EDGE_2,))
    edge2 = edges.start("edge2", EDGE_2, peers=(EDGE_1,))
    wait_dmq_peers(edge1, edge2)
    assert register("alice", "alice-secret", ip=ALICE_IP, edge=EDGE_1).ok
    deadline = time.monotonic() + 5
    while not edge2.registered_contacts("alice") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert edge2.registered_contacts("alice") == [f"sip:alice@{ALICE_IP}:5060"]

    with Uas("alice", ALICE_IP, hold=5.0) as alice:
        # A node asks edge 2 to ring alice: edge 2 never saw her REGISTER.
        call = start_call(
            "alice", ip=NODE_1, port=5070, edge=EDGE_2, caller="node1", headers={"X-PBX-Call-Waiting": "1"}
        )
        result = call.wait()
        assert result.ok, result
        invites = alice.wait_invites(1)
        assert len(invites) == 1
        assert invites[0].request_uri == f"sip:alice@{ALICE_IP}:5060"
        assert invites[0].header("X-PBX-Call-Waiting") is None  # ours, not the handset's


def wait_dmq_peers(*edges, timeout: float = 15.0) -> None:
    """Until every edge lists every other as an active DMQ node."""
    deadline = time.monotonic() + timeout
    while True:
        seen = {edge.config.name: dmq_active(edge) for edge in edges}
        if all(len(active) >= len(edges) for active in seen.values()):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"DMQ peers not active: {seen}")
        time.sleep(0.2)


def dmq_active(edge) -> set[str]:
    nodes = edge.rpc("dmq.list_nodes") or []
    if isinstance(nodes, dict):
        nodes = [nodes]
    return {n.get("host") for n in nodes if n.get("status") == "active"}
