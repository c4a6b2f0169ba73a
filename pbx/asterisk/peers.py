"""Which peer nodes have a silent agent: a node whose agent was killed (kill -9, a crash, its
machine's store link cut) keeps its Asterisk and stays enabled at the edges with state that
no longer follows the change log. Its own gate cannot take it out, so every other agent's
gate does (pbx/edge/gate.py): a peer whose heartbeat (node.last_seen_at, written every
controller.HEARTBEAT_S) is older than SILENT_AFTER is disabled at every edge until its agent
is heard again and enables it itself, once caught up.

Only the nodes of the cluster's layout (PBX_NODES: node-i is the i-th address, all on the
same SIP port) are watched; one node alone has no peer to watch it (docs/architecture.md).
Heartbeats are the agents' clocks: machines of a cluster keep NTP time, and SILENT_AFTER is
three heartbeats, far above any skew NTP leaves.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from pbx.settings import Settings
from pbx.store import Node, transaction
from pbx.store.models import utcnow

SILENT_AFTER = timedelta(seconds=15)


def peer_addresses(settings: Settings) -> dict[str, str]:
    """node name -> SIP address, for every node of the layout but this one."""
    if not settings.nodes:
        return {}
    names = settings.node_names
    return {name: address for name, address in zip(names, settings.nodes, strict=True) if name != settings.node_name}


def silent_peers(session: Session, peers: dict[str, str], now: datetime | None = None) -> list[str]:
    """The addresses of the peers whose agent has not been heard for SILENT_AFTER.

    A peer with no row yet has never run: the edges start it disabled, nothing to do."""
    if not peers:
        return []
    since = (now or utcnow()) - SILENT_AFTER
    rows = session.scalars(select(Node).where(Node.name.in_(peers)))
    return sorted(peers[row.name] for row in rows if _aware(row.last_seen_at) < since)


def silent_peer_finder(settings: Settings, factory: sessionmaker[Session]) -> Callable[[], list[str]]:
    """For EdgeGate: a call that reads the store and returns the silent peers' addresses."""
    peers = peer_addresses(settings)

    def find() -> list[str]:
        with transaction(factory) as session:
            return silent_peers(session, peers)

    return find


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
