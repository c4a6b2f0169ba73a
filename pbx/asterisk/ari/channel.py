"""One call in the Stasis app, as a handler sees it: answer, play, read digits, hand back, hang up.

Digits typed ahead are kept: a caller (or a test) may key "201#123456#" while the
first prompt still plays, and each read takes the next digits in order. A prompt
stops at the first digit and is skipped when digits are already waiting.
Every wait is bounded, and a hang-up ends any wait with CallEnded.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections import deque
from typing import Any

from pbx.asterisk.ari.client import AriClient, AriError, ChannelEvents

PLAY_MAX_S = 60.0
FIRST_DIGIT_S = 10.0
NEXT_DIGIT_S = 5.0
TERMINATOR = "#"
# The phone ID the dialplan passes as the first Stasis argument after the handler's name:
# the edge's X-PBX-Handset header (the handset's digest user), validated by pbx-from-edge.
_PHONE_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")


class CallEnded(Exception):
    """The caller hung up, or the channel left the app: nothing more can be said to it."""


class Call:
    def __init__(
        self, client: AriClient, events: ChannelEvents, channel: dict[str, Any], args: list[str], phone: str = ""
    ) -> None:
        self.client = client
        self.events = events
        self.id = events.id
        self.name = channel.get("name", "")
        self.args = args
        self.phone = phone
        self.continued = False
        self._typed: deque[str] = deque()

    @property
    def endpoint(self) -> str:
        """The phone ID of the handset that placed the call ("" for any other caller).

        From the dialplan (Stasis(pbx,<handler>,<phone ID>,...)), which took it from the
        edge's X-PBX-Handset header, never from anything the handset sends."""
        return self.phone if _PHONE_ID.fullmatch(self.phone) else ""

    @property
    def ended(self) -> bool:
        return self.events.gone.is_set()

    async def answer(self) -> None:
        await self._request("POST", f"/channels/{self.id}/answer")

    async def play(self, *media: str, interruptible: bool = True) -> None:
        """Play sounds ("sound:vm-password", "digits:201") in one go; a digit stops them."""
        if not media:
            return
        self._check()
        if interruptible and self._typed:
            return
        playback_id = uuid.uuid4().hex
        finished = self.client.expect_playback(playback_id)
        try:
            await self._request("POST", f"/channels/{self.id}/play/{playback_id}", media=",".join(media))
            waits: set[asyncio.Future[Any]] = {finished, asyncio.ensure_future(self.events.gone.wait())}
            if interruptible:
                waits.add(asyncio.ensure_future(self._next_digit()))
            done, pending = await asyncio.wait(waits, timeout=PLAY_MAX_S, return_when=asyncio.FIRST_COMPLETED)
            for task in pending - {finished}:
                task.cancel()
            if finished not in done and not self.ended:
                await self.client.request("DELETE", f"/playbacks/{playback_id}", ok_missing=True)
        finally:
            self.client.forget_playback(playback_id)
        self._check()

    async def read(
        self, *prompt: str, max_digits: int = 16, first_s: float = FIRST_DIGIT_S, next_s: float = NEXT_DIGIT_S
    ) -> str:
        """Digits up to '#' (or a pause); extra digits beyond max_digits are dropped."""
        await self.play(*prompt)
        digits = ""
        while True:
            digit = await self._take(first_s if not digits else next_s)
            if digit is None or digit == TERMINATOR:
                return digits
            if len(digits) < max_digits:
                digits += digit

    async def choose(self, *prompt: str, timeout: float = FIRST_DIGIT_S) -> str | None:
        """One key of a menu (no '#'), or None after timeout seconds; digits typed ahead stay for later reads."""
        await self.play(*prompt)
        return await self._take(timeout)

    async def continue_to(self, context: str, extension: str, priority: int = 1) -> None:
        """Hand the channel back to the dialplan, which carries on from there."""
        await self._request(
            "POST", f"/channels/{self.id}/continue", context=context, extension=extension, priority=str(priority)
        )
        self.continued = True

    async def hangup(self) -> None:
        await self.client.request("DELETE", f"/channels/{self.id}", ok_missing=True, reason="normal")

    async def _request(self, method: str, path: str, **params: str) -> None:
        """A request about this channel; the channel gone (404) means the caller hung up."""
        try:
            await self.client.request(method, path, ok_missing=False, **params)
        except AriError as error:
            if error.status == 404 or self.ended:
                raise CallEnded(self.id) from error
            raise

    # -- digits ------------------------------------------------------------------
    async def _next_digit(self) -> None:
        """Wait until a digit is typed (kept for the next read)."""
        if not self._typed:
            self._typed.append(await self.events.dtmf.get())

    async def _take(self, timeout: float) -> str | None:
        """The next digit typed, or None after timeout seconds of silence."""
        if not self._typed:
            getting = asyncio.ensure_future(self._next_digit())
            gone = asyncio.ensure_future(self.events.gone.wait())
            done, pending = await asyncio.wait({getting, gone}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            for task in pending:
                task.cancel()
            if getting not in done:
                self._check()
                return None
        return self._typed.popleft()

    def _check(self) -> None:
        if self.ended:
            raise CallEnded(self.id)
