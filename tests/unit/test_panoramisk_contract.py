"""What `pbx.asterisk.ami._Manager` relies on in panoramisk, which it subclasses.

`_Manager` overrides panoramisk's reconnect and reads its internals (not a public
API), so a panoramisk release that renames or reshapes one of them must fail here,
before it fails a call. pyproject.toml pins panoramisk below its next major; this
also checks the pin and the installed version agree.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import re
import tomllib
from collections import deque
from importlib.metadata import version

import pytest
from packaging.requirements import Requirement
from panoramisk import Manager

from pbx.asterisk.ami import Ami, AmiError, _Manager
from pbx.settings import REPO_ROOT, Settings

PINNED_MAJOR = 1
STEP_TIMEOUT_S = 5.0

# Methods _Manager overrides or calls, and how it (or panoramisk itself) calls them.
CALLED_AS = {
    "connect": (),  # by Ami._login, and by panoramisk's own reconnect timer
    "connection_made": (object(),),  # the connect task's done-callback
    "connection_lost": (None,),  # by AMIProtocol.connection_lost
    "close": (),
    "send_action": ({"Action": "Ping"},),
    "register_event": ("*", lambda manager, event: None),
    "on_disconnect": (object(), None),  # scheduled by connection_lost as on_disconnect(manager, exc)
}
# Attributes _Manager reads or writes.
ATTRIBUTES = (
    "loop",
    "pinger",
    "authenticated",
    "authenticated_future",
    "_connected",
    "awaiting_actions",
    "on_disconnect",
)


def _panoramisk_requirement() -> Requirement:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    return next(Requirement(d) for d in project["dependencies"] if re.match(r"panoramisk\b", d))


def test_installed_panoramisk_is_the_pinned_major_and_the_pin_excludes_the_next():
    installed = version("panoramisk")
    specifier = _panoramisk_requirement().specifier

    assert int(installed.split(".")[0]) == PINNED_MAJOR
    assert specifier.contains(installed)
    assert not specifier.contains(f"{PINNED_MAJOR + 1}.0")


@pytest.mark.parametrize("name, args", CALLED_AS.items())
def test_manager_methods_we_override_or_call_keep_their_signature(name, args):
    manager = Manager(loop=asyncio.new_event_loop())
    try:
        inspect.signature(getattr(manager, name)).bind(*args)
    finally:
        manager.loop.close()


def test_manager_keeps_the_attributes_we_read():
    manager = Manager(loop=asyncio.new_event_loop())
    try:
        missing = [name for name in ATTRIBUTES if not hasattr(manager, name)]
        assert missing == []
        assert isinstance(manager.awaiting_actions, deque)
        assert (manager.authenticated, manager.authenticated_future, manager.pinger) == (False, None, None)
    finally:
        manager.loop.close()


class FakeAsterisk:
    """Just enough AMI on 127.0.0.1: accepts the login, answers every action, hangs up on DROP_ACTION."""

    DROP_ACTION = "DBDel"

    def __init__(self) -> None:
        self.connections = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        writer.write(b"Asterisk Call Manager/9.0.0\r\n")
        while block := await reader.readuntil(b"\r\n\r\n"):
            fields = dict(line.split(": ", 1) for line in block.decode().strip().split("\r\n") if ": " in line)
            if fields.get("Action") == self.DROP_ACTION:
                writer.close()
                return
            writer.write(f"Response: Success\r\nActionID: {fields.get('ActionID', '')}\r\nMessage: ok\r\n\r\n".encode())
            await writer.drain()


async def _lost_connection_fails_the_waiting_action_at_once() -> None:
    fake = FakeAsterisk()
    server = await asyncio.start_server(fake.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    settings = Settings.from_env()
    settings = dataclasses.replace(settings, ports=dataclasses.replace(settings.ports, ami=port))
    try:
        ami = await Ami.connect(settings, timeout=STEP_TIMEOUT_S)
        assert isinstance(ami.manager, _Manager)
        await asyncio.wait_for(ami.db_put("pbx", "contract", "1"), STEP_TIMEOUT_S)

        with pytest.raises(AmiError, match="connection lost"):
            await asyncio.wait_for(ami.action(FakeAsterisk.DROP_ACTION, Family="pbx", Key="contract"), STEP_TIMEOUT_S)

        assert not ami.connected
        assert ami.manager.awaiting_actions == deque()
        assert ami.manager.connect() is None  # panoramisk's reconnect timer finds nothing to do
        await ami.close()
        assert fake.connections == 1
    finally:
        server.close()
        await server.wait_closed()


def test_a_lost_connection_fails_the_waiting_action_at_once_and_never_reconnects():
    """panoramisk's protocol queues an unanswered action in awaiting_actions and calls connection_lost;
    _Manager fails it there (a hang, here a timeout, if either changes) and does not reconnect."""
    asyncio.run(_lost_connection_fails_the_waiting_action_at_once())
