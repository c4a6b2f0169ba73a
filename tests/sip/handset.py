"""Handsets and the outside world, played by sipp UAS processes.

A Handset REGISTERs (digest auth) from its own port, then listens there and
answers, refuses (486) or just rings each INVITE. The REGISTER and the UAS are
two sipp runs on the same port, one after the other: a sipp scenario cannot
both start a dialog and wait for new ones.
"""

from __future__ import annotations

import contextlib
import time

from pbx.settings import Settings

from .messages import Invite, received_invites
from .sipp import SippError, SippProcess, free_udp_port, render_scenario, wait_udp_bound, work_dir

MODES = {"answer": "uas_answer.xml", "busy": "uas_busy.xml", "ring": "uas_ring.xml", "noanswer": "uas_ring.xml"}
REGISTER_TIMEOUT_S = 10
REGISTER_EXPIRES_S = 3600


class RegistrationFailed(AssertionError):
    """The edge did not accept the handset's REGISTER."""


class SippUas:
    """A SIP UAS on 127.0.0.1:port taking `calls` calls in `mode`, recording INVITEs."""

    def __init__(
        self,
        settings: Settings,
        *,
        name: str,
        mode: str = "answer",
        calls: int = 1,
        hold: float = 3.0,
        ring: float = 0.0,
        timeout: float = 30.0,
        port: int | None = None,
        ip: str = "127.0.0.1",
    ):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {sorted(MODES)}")
        self.settings = settings
        self.name = name
        self.mode = mode
        self.calls = calls
        self.hold = hold
        self.ring = ring
        self.timeout = timeout
        self.port = port or free_udp_port()
        self.ip = ip
        self.dir = work_dir(name)
        self.uas: SippProcess | None = None
        self.exit_code: int | None = None

    def start(self) -> SippUas:
        scenario = render_scenario(
            MODES[self.mode],
            self.dir / f"{self.mode}.xml",
            values={"HOLD_MS": str(int(self.hold * 1000)), "RING_MS": str(int(self.ring * 1000))},
        )
        self.uas = SippProcess(
            "uas",
            scenario,
            ["-m", str(self.calls)],
            port=self.port,
            timeout=self.timeout,
            directory=self.dir,
            ip=self.ip,
        ).start()
        if not wait_udp_bound(self.port):
            self.uas.kill()
            raise SippError(f"{self.name}: sipp did not bind {self.ip}:{self.port}\n{self.uas.diagnostics()}")
        return self

    def wait(self, timeout: float | None = None) -> int:
        """Wait until the UAS has taken its calls (or timed out); its exit code."""
        if self.uas is None:
            raise SippError(f"{self.name} was never started")
        self.exit_code = self.uas.wait(timeout)
        return self.exit_code

    def wait_invites(self, count: int = 1, timeout: float = 10.0) -> list[Invite]:
        """Poll until `count` INVITEs have arrived (or timeout); the INVITEs seen."""
        deadline = time.monotonic() + timeout
        while len(self.invites) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.invites

    @property
    def invites(self) -> list[Invite]:
        return received_invites(self.uas.messages()) if self.uas else []

    def stop(self) -> None:
        if self.uas is not None:
            self.uas.kill()

    def __enter__(self) -> SippUas:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def edge_address(settings: Settings) -> str:
    """Where handsets register and call: the first SIP edge."""
    return f"{settings.edge_hosts[0]}:{settings.edge_sip_port}"


def edge_trunk_address(settings: Settings) -> str:
    """Where the carrier sends calls in: the first edge's trunk port."""
    return f"{settings.edge_hosts[0]}:{settings.edge_trunk_port}"


class Handset(SippUas):
    """A registered phone: phone_id is its SIP user (the edge's digest user)."""

    def __init__(
        self, settings: Settings, phone_id: str, password: str, mode: str = "answer", *, register: bool = True, **kwargs
    ):
        super().__init__(settings, name=phone_id, mode=mode, **kwargs)
        self.phone_id = phone_id
        self.password = password
        self.register_on_start = register
        self.registered = False

    def register(self, expires: int = REGISTER_EXPIRES_S) -> None:
        """REGISTER this port as the phone's contact; raise RegistrationFailed if refused."""
        if self.uas is not None and self.uas.running:
            raise SippError("register before start(): the UAS holds the port")
        label = "register" if expires else "unregister"
        scenario = render_scenario("register.xml", self.dir / f"{label}.xml", values={"EXPIRES": str(expires)})
        run = SippProcess(
            label,
            scenario,
            [
                edge_address(self.settings),
                "-s",
                self.phone_id,
                "-au",
                self.phone_id,
                "-ap",
                self.password,
                "-m",
                "1",
                "-l",
                "1",
            ],
            port=self.port,
            timeout=REGISTER_TIMEOUT_S,
            directory=self.dir,
        ).start()
        code = run.wait()
        if code != 0:
            statuses = [m.status for m in run.messages() if m.status]
            raise RegistrationFailed(
                f"{self.phone_id}: {label} failed (sipp {code}, responses {statuses})\n{run.diagnostics()}"
            )
        self.registered = expires > 0

    def start(self) -> Handset:
        if self.register_on_start:
            self.register()
        super().start()
        return self

    def stop(self) -> None:
        super().stop()
        if self.registered:
            # Best effort: the next REGISTER replaces the contact anyway.
            with contextlib.suppress(RegistrationFailed, SippError):
                self.register(expires=0)


class OutsideWorld(SippUas):
    """The world behind the trunk (the carrier): receives our outgoing calls, relayed by
    the edge, at its own address trunk_host:trunk_outbound."""

    def __init__(self, settings: Settings, mode: str = "answer", **kwargs):
        kwargs.setdefault("port", settings.ports.trunk_outbound)
        kwargs.setdefault("ip", settings.trunk_host)
        super().__init__(settings, name="outside-world", mode=mode, **kwargs)
