"""The Stasis app "pbx" and the voicemail mailer run against the World's Asterisk, each in
a thread with its own event loop, as `pbx controller` runs them; and an SMTP sink
(aiosmtpd) on a free 127.0.0.1 port.
"""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import threading
import time
from collections.abc import Callable
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller as SmtpController

from pbx.asterisk.ari.app import StasisApp
from pbx.asterisk.voicemail_mail import VoicemailMailer
from pbx.settings import SmtpSettings

START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 15.0


class InThread:
    """service = make() (built inside the thread's loop), then `await service.run(stop)`."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make = make
        self.service: Any = None
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._loop.run_until_complete, args=(self._main(),), daemon=True)

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        self.service = self._make()
        await self.service.run(self._stop)

    def start(self) -> InThread:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(STOP_TIMEOUT_S)
        assert not self._thread.is_alive(), "the service did not stop within its bound"


class RunningApp(InThread):
    """The Stasis app; `connections` counts its websocket (re)connections."""

    def __init__(self, settings, factory) -> None:
        super().__init__(lambda: StasisApp(settings, factory))

    @property
    def connections(self) -> int:
        return self.service.client.connections if self.service else 0

    @property
    def connected(self) -> bool:
        return self.service is not None and self.service.connected.is_set()

    def wait_connected(self, at_least: int = 1, timeout: float = START_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while not (self.connected and self.connections >= at_least):
            if time.monotonic() > deadline:
                raise AssertionError(f"the Stasis app did not connect to ARI within {timeout}s")
            time.sleep(0.02)

    def start(self) -> RunningApp:
        super().start()
        self.wait_connected()
        return self


@pytest.fixture
def stasis_app(world):
    app = RunningApp(world.settings, world.factory).start()
    yield app
    app.stop()


def free_tcp_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpSink:
    """What the SMTP server received, parsed (aiosmtpd calls handle_DATA)."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.port = 0

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def wait(self, count: int = 1, timeout: float = 20.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.1)
        return self.messages


@pytest.fixture
def smtp_sink():
    sink = SmtpSink()
    sink.port = free_tcp_port()
    server = SmtpController(sink, hostname="127.0.0.1", port=sink.port)
    server.start()
    yield sink
    server.stop()


@pytest.fixture
def voicemail_mailer(world, smtp_sink, tmp_path):
    """The mailer on the World's spool, sending to the sink; its first scan has run when it yields."""
    smtp = SmtpSettings(host="127.0.0.1", port=smtp_sink.port, sender="voicemail@pbx.example")
    settings = dataclasses.replace(world.settings, smtp=smtp)
    running = InThread(lambda: VoicemailMailer(settings, world.factory)).start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while running.service is None or not running.service.ready.is_set():
        assert time.monotonic() < deadline, "the voicemail mailer did not start"
        time.sleep(0.05)
    yield running
    running.stop()


__all__ = ["RunningApp", "SmtpSink", "smtp_sink", "stasis_app", "voicemail_mailer"]
