"""A thin AMI client on panoramisk.

AMI is a line protocol: a CR or LF inside a value would let it start a second
action (header injection). Every value is checked here, before anything is
sent, so callers above can never smuggle one through.
"""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from panoramisk import Manager

from pbx import credentials
from pbx.settings import Settings

T = TypeVar("T")
CONNECT_TIMEOUT_S = 10.0
ACTION_TIMEOUT_S = 30.0
ABSENT_MESSAGES = ("not found", "could not be deleted")


class AmiError(RuntimeError):
    """Asterisk refused an AMI action or could not be reached."""


def check_value(value: Any, what: str = "value") -> str:
    """Return value as a str, refusing CR/LF (AMI header injection)."""
    text = str(value)
    if "\r" in text or "\n" in text:
        raise ValueError(f"AMI {what} must not contain CR or LF")
    return text


class _Manager(Manager):  # type: ignore[misc]  # panoramisk ships no types
    """panoramisk's Manager without its silent, endless reconnect.

    panoramisk re-queues pending actions and reconnects forever in the
    background; our callers (the controller) reconnect themselves and need a
    lost connection to fail the waiting actions at once, not hang.
    """

    pinger: asyncio.Handle | None  # panoramisk's keep-alive timer, set by the base class

    def __init__(self, **config: Any):
        super().__init__(**config)
        self.lost = False

    def connect(self, *args: Any, **kwargs: Any) -> Any:
        if self.lost:  # a reconnect panoramisk scheduled: not wanted
            return None
        return super().connect(*args, **kwargs)

    def connection_made(self, f: asyncio.Future[Any]) -> None:
        if f.cancelled() or f.exception() is not None:
            self.lost = True  # Ami.connect sees the error from the task itself
            return
        super().connection_made(f)

    def connection_lost(self, exc: Any) -> None:
        self.lost = True
        self._connected = False
        if self.pinger is not None:
            self.pinger.cancel()
            self.pinger = None
        self._fail_waiting()
        self.loop.call_soon(self.on_disconnect, self, exc)

    def close(self) -> None:
        self.lost = True
        super().close()
        self._fail_waiting()

    def _fail_waiting(self) -> None:
        while self.awaiting_actions:
            action = self.awaiting_actions.popleft()
            if not action.future.done():
                action.future.set_exception(ConnectionError("AMI connection lost"))


def _response_lines(resp: Any) -> list[str]:
    messages = resp if isinstance(resp, list) else [resp]
    lines: list[str] = []
    for message in messages:
        output = message.get("Output")
        if output is not None:
            lines.extend(output if isinstance(output, list) else [output])
        elif getattr(message, "content", ""):
            lines.extend(message.content.splitlines())
    return lines


class Ami:
    """One AMI connection. Use `await Ami.connect(settings)`, then `await ami.close()`.

    pbx's AMI user has the classes `system` and `call` only (pbx.asterisk.local): no
    `command` (CLI commands) and no `config`; so everything here is a plain action --
    DBGetTree rather than `database show`, Reload rather than `module reload`, the
    FullyBooted event rather than `core waitfullybooted`."""

    def __init__(self, manager: Manager):
        self.manager = manager
        self.booted = asyncio.Event()  # Asterisk said FullyBooted on this connection

    @classmethod
    async def connect(cls, settings: Settings, timeout: float = CONNECT_TIMEOUT_S) -> Ami:
        # ping_delay=None crashes panoramisk; 0 pings at once, then every 10 s.
        manager = _Manager(
            host=settings.asterisk_host,
            port=settings.ports.ami,
            username=check_value(settings.ami_user, "user"),
            secret=check_value(credentials.ami_secret(settings), "secret"),
            ping_delay=0,
            loop=asyncio.get_running_loop(),
        )
        self = cls(manager)
        # Asterisk sends FullyBooted right after the login response when it is booted, or
        # later when the boot ends: listened for before the login, so it is never missed.
        manager.register_event("FullyBooted", lambda _m, _e: self.booted.set())
        try:
            await asyncio.wait_for(self._login(), timeout)
        except (TimeoutError, OSError, AmiError) as exc:
            manager.close()
            raise AmiError(f"AMI login to {settings.asterisk_host}:{settings.ports.ami} failed: {exc!r}") from exc
        return self

    async def _login(self) -> None:
        await self.manager.connect()
        # panoramisk sends Login from a done-callback of the connect task.
        while not self.manager.authenticated:
            if self.manager.authenticated_future is not None:
                await self.manager.authenticated_future
                if not self.manager.authenticated:
                    raise AmiError("AMI login refused (user/secret)")
            else:
                await asyncio.sleep(0.01)

    @property
    def connected(self) -> bool:
        return not self.manager.lost

    async def close(self) -> None:
        self.manager.close()

    async def action(self, name: str, **fields: Any) -> Any:
        """Send one action; fields are checked for CR/LF. Raise AmiError on Error."""
        if self.manager.lost:
            raise AmiError("AMI connection lost")
        action: dict[str, str | list[str]] = {"Action": check_value(name, "action")}
        for key, value in fields.items():
            check_value(key, "field name")
            action[key] = (
                [check_value(v, key) for v in value] if isinstance(value, (list, tuple)) else check_value(value, key)
            )
        try:
            resp = await asyncio.wait_for(self.manager.send_action(action), ACTION_TIMEOUT_S)
        except ConnectionError as error:
            raise AmiError(f"{name}: {error}") from error
        first = resp[0] if isinstance(resp, list) else resp
        if first.get("Response") == "Error":
            raise AmiError(f"{name}: {first.get('Message', 'error')}")
        return resp

    async def command(self, cmd: str) -> str:
        """Run a CLI command and return its output. pbx's own AMI user may not (no `command`
        class): for an AMI user given it, e.g. a developer's; pbx itself never calls this."""
        resp = await self.action("Command", Command=cmd)
        return "\n".join(_response_lines(resp))

    async def wait_fully_booted(self, timeout: float = ACTION_TIMEOUT_S) -> None:
        """Return once Asterisk has said FullyBooted on this connection (at login if already booted)."""
        try:
            await asyncio.wait_for(self.booted.wait(), timeout)
        except TimeoutError as error:
            raise AmiError(f"Asterisk did not say FullyBooted within {timeout} s") from error

    async def db_get_tree(self, family: str) -> dict[str, str]:
        """Every key below family (without the leading '/family/') and its value; {} if none."""
        try:
            resp = await self.action("DBGetTree", Family=family)
        except AmiError as error:
            if "not found" in str(error).lower():
                return {}
            raise
        prefix = f"/{family}/"
        entries: dict[str, str] = {}
        for message in resp if isinstance(resp, list) else [resp]:
            if message.get("Event") == "DBGetTreeResponse":
                key = str(message.get("Key", ""))
                entries[key.removeprefix(prefix)] = str(message.get("Val", ""))
        return entries

    async def reload_module(self, *modules: str) -> str:
        """Reload the first of `modules` Asterisk has loaded (e.g. app_voicemail.so or its ODBC
        twin); returns its name. AMI Reload: class `system`, not `command`."""
        for module in modules:
            try:
                await self.action("Reload", Module=module)
            except AmiError as error:
                if "no such module" in str(error).lower():
                    continue
                raise
            return module
        raise AmiError(f"Reload: none of {', '.join(modules)} is loaded")

    async def db_put(self, family: str, key: str, value: str) -> None:
        await self.action("DBPut", Family=family, Key=key, Val=value)

    async def db_get(self, family: str, key: str) -> str | None:
        """Value of family/key, or None when it does not exist."""
        try:
            resp = await self.action("DBGet", Family=family, Key=key)
        except AmiError:
            return None
        for message in resp if isinstance(resp, list) else [resp]:
            if message.get("Event") == "DBGetResponse":
                return str(message.get("Val", ""))
        return None

    async def db_del(self, family: str, key: str) -> None:
        """Delete family/key; a key already absent is not an error (same end state)."""
        await self._delete("DBDel", Family=family, Key=key)

    async def db_deltree(self, family: str, key: str | None = None) -> None:
        """Delete family (or family/key and below); absent is not an error."""
        fields = {"Family": family} if key is None else {"Family": family, "Key": key}
        await self._delete("DBDelTree", **fields)

    async def _delete(self, name: str, **fields: str) -> None:
        try:
            await self.action(name, **fields)
        except AmiError as error:
            # Asterisk words "absent" as "not found" or "could not be deleted".
            if not any(word in str(error).lower() for word in ABSENT_MESSAGES):
                raise

    async def reload(self, module: str | None = None) -> None:
        await self.action("Reload", **({"Module": module} if module else {}))

    def on_event(self, pattern: str, callback: Callable[[Any, Any], Any]) -> None:
        """Call callback(manager, event) for events matching pattern ('*' works)."""
        self.manager.register_event(pattern, callback)


def run_ami(settings: Settings, coro_fn: Callable[[Ami], Awaitable[T]]) -> T:
    """Sync helper for scripts and tests: connect, run coro_fn(ami), close."""

    async def main() -> T:
        ami = await Ami.connect(settings)
        try:
            return await coro_fn(ami)
        finally:
            await ami.close()

    return asyncio.run(main())


def probe(settings: Settings, timeout: float = 2.0) -> bool:
    """True if an AMI login succeeds now (plain socket: no event loop needed)."""
    login = (
        f"Action: Login\r\nUsername: {check_value(settings.ami_user)}\r\n"
        f"Secret: {check_value(credentials.ami_secret(settings))}\r\nEvents: off\r\n\r\n"
        "Action: Logoff\r\n\r\n"
    )
    data = b""
    try:
        with socket.create_connection((settings.asterisk_host, settings.ports.ami), timeout=timeout) as sock:
            sock.sendall(login.encode())
            # The banner line, then the Login response ending in a blank line.
            while not re.search(rb"Response: \w+.*?\r\n\r\n", data, re.S):
                chunk = sock.recv(4096)
                if not chunk:
                    break
                data += chunk
    except OSError:
        return False
    return b"Response: Success" in data
