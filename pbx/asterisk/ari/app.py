"""The Stasis app "pbx": one task per call, routed by the first Stasis() argument.

A handler's failure ends its own call only (a short apology, then hang-up),
never the app; every call has a time limit; a call still in the app when its
handler ends is hung up, so no channel is ever left hanging.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from pbx.asterisk.ari import access, authcode, conference, feature_codes, portal, prompts
from pbx.asterisk.ari.channel import Call, CallEnded
from pbx.asterisk.ari.client import AriClient, AriError, ChannelEvents
from pbx.asterisk.ari.store import Store
from pbx.settings import Settings

log = logging.getLogger("pbx.ari.app")
Handler = Callable[[Call, Store], Awaitable[None]]
HANDLERS: dict[str, Handler] = {
    "feature": feature_codes.handle,  # *72 *73 *90 *91 *52 *53 *78 *79 *70 *71
    "voicemail": access.voicemail,  # *97 (own), *98 (any)
    "login": access.log_in,  # *11
    "logout": access.log_out,  # *12
    "authcode": authcode.handle,  # from pbx-outbound (R22)
    "portal": portal.handle,  # the voice portal: its number (did/), or *500 from a handset (R42)
    "conference": conference.handle,  # *88, or a conference number (R44)
}
CALL_MAX_S = 300.0  # no person spends longer than this keying digits
LAST_WORDS_S = 10.0
STOP_GRACE_S = 5.0


class StasisApp:
    def __init__(self, settings: Settings, factory: sessionmaker[Session]) -> None:
        self.client = AriClient(settings)
        self.store = Store(factory)
        self.client.on_start = self._start
        self._calls: set[asyncio.Task[None]] = set()

    @property
    def connected(self) -> asyncio.Event:
        return self.client.connected

    async def run(self, stop: asyncio.Event) -> None:
        """Serve calls until stop is set; then hang up the calls still in hand."""
        try:
            await self.client.run(stop)
        finally:
            for task in list(self._calls):
                task.cancel()
            if self._calls:
                await asyncio.wait(list(self._calls), timeout=STOP_GRACE_S)
            await self.client.close()

    def _start(self, events: ChannelEvents, event: dict[str, Any]) -> None:
        args = [str(a) for a in event.get("args", [])]
        # Stasis(pbx,<handler>,<phone ID>,<handler's arguments>...): see dialplan/pbx-ari.conf.
        call = Call(self.client, events, event.get("channel", {}), args[2:], phone=args[1] if len(args) > 1 else "")
        handler = HANDLERS.get(args[0]) if args else None
        task = asyncio.create_task(self._serve(call, handler, args))
        self._calls.add(task)
        task.add_done_callback(self._calls.discard)

    async def _serve(self, call: Call, handler: Handler | None, args: list[str]) -> None:
        try:
            if handler is None:
                raise ValueError(f"no handler for Stasis arguments {args!r}")
            async with asyncio.timeout(CALL_MAX_S):
                await handler(call, self.store)
        except CallEnded:
            pass
        except asyncio.CancelledError:
            await _quietly(call.hangup())
            raise
        except Exception:
            log.exception("call %s (%s) failed", call.id, args[:1])
            # Answered (if it was not yet) so the caller hears why the call ends.
            await _quietly(call.answer())
            await _quietly(call.play(*prompts.SORRY, interruptible=False))
        if not call.continued:
            await _quietly(call.hangup())


async def _quietly(action: Awaitable[None]) -> None:
    """Last words to a call that may be gone already: bounded, and never raising."""
    with contextlib.suppress(TimeoutError, AriError, CallEnded):
        await asyncio.wait_for(action, LAST_WORDS_S)
