"""`pbx controller`: the outbox controller, the Stasis app, voicemail to email and the message
lamp (R41), in one event loop (and, with PBX_EDGE_GATE_NODES, the edge gate: the edges give this
node calls only while caught up).

Each part reconnects to Asterisk on its own, so an Asterisk restart is ridden out
by all of them. A part that fails for any other reason is a bug: it is logged and
the whole process stops (non-zero), rather than running on half-alive.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable

from sqlalchemy.orm import Session, sessionmaker

from pbx.asterisk.ari.app import StasisApp
from pbx.asterisk.controller import Controller
from pbx.asterisk.lamp import MessageLamp
from pbx.asterisk.peers import silent_peer_finder
from pbx.asterisk.voicemail_mail import VoicemailMailer
from pbx.edge.gate import EdgeGate
from pbx.settings import Settings

log = logging.getLogger("pbx.runner")


async def run_all(settings: Settings, factory: sessionmaker[Session], stop: asyncio.Event | None = None) -> None:
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    gate = EdgeGate(settings, silent_peers=silent_peer_finder(settings, factory)) if settings.edge_gate_nodes else None
    controller = Controller(
        settings, factory, on_caught_up=gate.caught_up if gate else None, on_behind=gate.behind if gate else None
    )
    parts = {
        "controller": controller.run(stop),
        "stasis app": StasisApp(settings, factory).run(stop),
        "voicemail mailer": VoicemailMailer(settings, factory).run(stop),
        "message lamp": MessageLamp(settings, factory).run(stop),
    }
    if gate is not None:  # the edges give this node calls only while its agent is caught up
        parts["edge gate"] = gate.run(stop)
    results = await asyncio.gather(*(_part(name, run, stop) for name, run in parts.items()))
    failed = [name for name, ok in zip(parts, results, strict=True) if not ok]
    if failed:
        raise RuntimeError(f"pbx controller stopped: {', '.join(failed)} failed (see the log)")


async def _part(name: str, run: Awaitable[None], stop: asyncio.Event) -> bool:
    try:
        await run
        return True
    except Exception:
        log.exception("%s failed; stopping", name)
        stop.set()
        return False
