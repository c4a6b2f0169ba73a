"""The node agent's word to the edges: give this node calls, or not.

With PBX_EDGE_GATE_NODES the edges start every node disabled (pbx/edge/render.py); the
node's agent enables it at every edge once it has caught up with the change log
(Controller.on_caught_up) and disables it when it falls behind (on_behind: Asterisk lost,
a resync) or stops. The state wanted is re-asserted every few seconds where an edge
disagrees, so an edge that restarts (its nodes disabled again) is put right without the
agent noticing the restart, and a node marked down by an edge's probe is not forced up.
Each gate also takes out the peers whose agent is silent (killed, hung): their Asterisk
answers the edges' probes but no longer follows the change log (pbx/asterisk/peers.py).

An edge is reached through its RPC (`EdgeSwitch`): on one machine a LocalEdge, JSON-RPC
over the edge's unix socket in its runtime folder. A deployment with edges on other
machines gives the agent another EdgeSwitch (e.g. Kamailio's jsonrpcs over HTTP, xhttp):
not built yet, see docs/edge.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from typing import Protocol

from sqlalchemy.exc import SQLAlchemyError

from pbx.edge.local import LocalEdge
from pbx.edge.system import local_edges
from pbx.settings import Settings

log = logging.getLogger("pbx.edge.gate")
REASSERT_S = 2.0  # how often the wanted state is checked against each edge
RPC_TIMEOUT_S = 1.0


class EdgeSwitch(Protocol):
    """What the gate needs of an edge: its nodes' dispatcher states, and setting one."""

    @property
    def name(self) -> str: ...

    def node_states(self) -> dict[str, str]: ...

    def set_node_state(self, address: str, active: bool, port: int = 5060) -> None: ...


class _LocalSwitch:
    def __init__(self, edge: LocalEdge) -> None:
        self.edge = edge

    @property
    def name(self) -> str:
        return self.edge.config.name

    def node_states(self) -> dict[str, str]:
        return self.edge.node_states(timeout=RPC_TIMEOUT_S)

    def set_node_state(self, address: str, active: bool, port: int = 5060) -> None:
        self.edge.set_node_state(address, active, port)


def local_switches(settings: Settings) -> list[EdgeSwitch]:
    return [_LocalSwitch(edge) for edge in local_edges(settings)]


def is_enabled(state: str) -> bool:
    """A dispatcher state ("AP", "IP", "DX", "TP") is not the disabled one."""
    return not state.upper().startswith("D")


class EdgeGate:
    """This node's wanted state at the edges, pushed to each of them (see the module)."""

    def __init__(
        self,
        settings: Settings,
        edges: Sequence[EdgeSwitch] | None = None,
        every: float = REASSERT_S,
        silent_peers: Callable[[], list[str]] | None = None,
    ):
        self.address, self.port = settings.node_sip_host, settings.ports.sip
        self.silent_peers = silent_peers
        self.key = f"{self.address}:{self.port}"
        self.edges = list(edges) if edges is not None else local_switches(settings)
        self.every = every
        self.active = False
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # The controller's hooks (called in the event loop): only say what is wanted.
    def caught_up(self, _name: str) -> None:
        self._want(True)

    def behind(self, _name: str) -> None:
        self._want(False)

    def _want(self, active: bool) -> None:
        self.active = active
        if self._wake is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    def apply(self) -> list[tuple[str, bool]]:
        """Set the wanted state at each edge that disagrees: (edge, active) for each set."""
        done = []
        active = self.active
        silent = self._silent()
        for edge in self.edges:
            try:
                states = edge.node_states()
                state = states.get(self.key)
                if state is None:
                    log.warning("edge %s does not list node %s", edge.name, self.key)
                elif is_enabled(state) != active:
                    edge.set_node_state(self.address, active, self.port)
                    log.info("edge %s: node %s %s", edge.name, self.key, "enabled" if active else "disabled")
                    done.append((edge.name, active))
                for address in silent:
                    if is_enabled(states.get(f"{address}:{self.port}", "D")):
                        edge.set_node_state(address, False, self.port)
                        log.warning("edge %s: node %s disabled: its agent is silent", edge.name, address)
            except (OSError, RuntimeError, ValueError) as error:  # an edge away: the next round retries
                log.debug("edge %s unreachable: %s", edge.name, error)
        return done

    def _silent(self) -> list[str]:
        """The silent peers' addresses; none when the store cannot say (it is away)."""
        if self.silent_peers is None:
            return []
        try:
            return [a for a in self.silent_peers() if a != self.address]
        except (SQLAlchemyError, OSError) as error:  # the store away: nobody is judged on no evidence
            log.debug("peers' heartbeats unreadable: %s", error)
            return []

    async def run(self, stop: asyncio.Event) -> None:
        """Until stop: apply on every change of mind and every `every` seconds; disabled at the end."""
        self._loop, self._wake = asyncio.get_running_loop(), asyncio.Event()
        try:
            while not stop.is_set():
                self._wake.clear()
                await asyncio.to_thread(self.apply)
                stopping = asyncio.ensure_future(stop.wait())
                woken = asyncio.ensure_future(self._wake.wait())
                await asyncio.wait({stopping, woken}, timeout=self.every, return_when=asyncio.FIRST_COMPLETED)
                for task in (stopping, woken):
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
        finally:
            # An agent that stops no longer keeps its node up to date: no calls for it.
            self.active = False
            await asyncio.to_thread(self.apply)
