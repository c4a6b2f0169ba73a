"""A thin ARI client: REST over httpx, events over one websocket, reconnecting for ever.

Each channel in the app gets a ChannelEvents (a DTMF queue, a "gone" flag) so a
handler reads digits in order and notices a hang-up at once. When the websocket
drops (Asterisk restarted), every channel in hand is marked gone, so no handler
waits on a call that no longer exists; the next connection registers the app again.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

from pbx import credentials
from pbx.asterisk.reconnect import Backoff
from pbx.settings import Settings

log = logging.getLogger("pbx.ari")
APP = "pbx"
REQUEST_TIMEOUT_S = 5.0
CONNECT_TIMEOUT_S = 5.0
BACKOFF_MIN_S, BACKOFF_MAX_S = 0.2, 1.0  # back within a second of Asterisk
GONE_EVENTS = ("StasisEnd", "ChannelDestroyed", "ChannelHangupRequest")


class AriError(RuntimeError):
    """Asterisk refused a request, or could not be reached."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class ChannelEvents:
    """What the events websocket tells a handler about its channel."""

    id: str
    dtmf: asyncio.Queue[str] = field(default_factory=asyncio.Queue)
    gone: asyncio.Event = field(default_factory=asyncio.Event)


class AriClient:
    def __init__(self, settings: Settings, app: str = APP) -> None:
        self.app = app
        self._host, self._port = settings.asterisk_host, settings.ports.http
        self._auth = (settings.ari_user, credentials.ari_password(settings))
        self.http = httpx.AsyncClient(
            base_url=f"http://{self._host}:{self._port}/ari",
            auth=self._auth,
            timeout=REQUEST_TIMEOUT_S,
            trust_env=False,
        )
        self.connected = asyncio.Event()
        self.connections = 0  # how many times the websocket connected: tests watch reconnects
        self.channels: dict[str, ChannelEvents] = {}
        self._playbacks: dict[str, asyncio.Future[str]] = {}
        self.on_start: Callable[[ChannelEvents, dict[str, Any]], None] = lambda _c, _e: None

    # -- REST ------------------------------------------------------------------
    async def request(self, method: str, path: str, *, ok_missing: bool = False, **params: str) -> Any:
        """One REST call; a 404 is no error when ok_missing (hanging up a channel already gone)."""
        try:
            response = await self.http.request(method, path, params=params or None)
        except httpx.HTTPError as error:
            raise AriError(f"{method} {path}: {error!r}") from error
        if response.status_code == 404 and ok_missing:
            return None
        if response.status_code >= 400:
            raise AriError(f"{method} {path}: {response.status_code} {response.text[:200]}", response.status_code)
        return response.json() if response.content else None

    def expect_playback(self, playback_id: str) -> asyncio.Future[str]:
        """A future set to the playback's final state when PlaybackFinished arrives."""
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._playbacks[playback_id] = future
        return future

    def forget_playback(self, playback_id: str) -> None:
        self._playbacks.pop(playback_id, None)

    # -- events ----------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        """Keep the events websocket up until stop is set."""
        backoff = Backoff(BACKOFF_MIN_S, BACKOFF_MAX_S)
        while not stop.is_set():
            connections_before = self.connections
            try:
                await self._listen(stop)
            except (TimeoutError, OSError, WebSocketException) as error:
                log.info("ARI events not reachable (%r); retrying in %.1fs", error, backoff.seconds)
            finally:
                self._lost(quietly=stop.is_set())
            if self.connections > connections_before:  # it was up: this outage is new
                backoff.reset()
            if not stop.is_set():
                await backoff.wait(stop)

    async def _listen(self, stop: asyncio.Event) -> None:
        query = urlencode({"app": self.app, "subscribeAll": "false"})
        # The same Basic credentials as REST, in a header rather than in the URL (logs).
        token = "Basic " + base64.b64encode(":".join(self._auth).encode()).decode()
        async with connect(
            f"ws://{self._host}:{self._port}/ari/events?{query}",
            proxy=None,
            additional_headers={"Authorization": token},
            open_timeout=CONNECT_TIMEOUT_S,
            ping_interval=5,
            ping_timeout=5,
        ) as ws:
            self.connections += 1
            self.connected.set()
            log.info("ARI connected: Stasis app %r registered", self.app)
            stopping = asyncio.ensure_future(stop.wait())
            try:
                while True:
                    receiving = asyncio.ensure_future(ws.recv())
                    done, _ = await asyncio.wait({receiving, stopping}, return_when=asyncio.FIRST_COMPLETED)
                    if stopping in done:
                        receiving.cancel()
                        return
                    raw = receiving.result()  # a closed connection raises here: reconnect
                    try:
                        self._dispatch(json.loads(raw))
                    except Exception:  # one odd event must not stop the app (asyncari's flaw)
                        log.exception("could not handle an ARI event")
            finally:
                stopping.cancel()

    def _dispatch(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == "PlaybackFinished":
            future = self._playbacks.pop(event.get("playback", {}).get("id", ""), None)
            if future is not None and not future.done():
                future.set_result(event["playback"].get("state", "done"))
            return
        channel_id = event.get("channel", {}).get("id")
        if not channel_id:
            return
        if kind == "StasisStart":
            events = self.channels[channel_id] = ChannelEvents(channel_id)
            try:
                self.on_start(events, event)
            except Exception:  # a handler that cannot start must not stop the event loop
                log.exception("could not start a handler for %s", channel_id)
                events.gone.set()
            return
        known = self.channels.get(channel_id)
        if known is None:
            return
        events = known
        if kind == "ChannelDtmfReceived":
            events.dtmf.put_nowait(event.get("digit", ""))
        elif kind in GONE_EVENTS:
            events.gone.set()
            if kind != "ChannelHangupRequest":
                self.channels.pop(channel_id, None)

    def _lost(self, quietly: bool = False) -> None:
        """The websocket is down: no event will tell the handlers anything more."""
        if self.connected.is_set() and not quietly:
            log.warning("ARI connection lost; reconnecting")
        self.connected.clear()
        for events in self.channels.values():
            events.gone.set()
        self.channels.clear()
        for future in self._playbacks.values():
            if not future.done():
                future.set_result("lost")
        self._playbacks.clear()

    async def close(self) -> None:
        await self.http.aclose()
