"""sipp around the edge: handsets, nodes and carriers on their own 127.0.1.x
addresses (tests/sip's harness binds 127.0.0.1 only; this reuses its process
class, scenarios and message parser, changing only where sipp binds).

Addresses: edges 127.0.1.101/102, nodes 127.0.1.1-3, carrier 127.0.1.201,
handsets 127.0.1.51+, a stranger 127.0.1.99. Every sipp is bounded in time
and calls; tests.sip.sipp.kill_all() ends any left running.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Self

from tests.sip.messages import Invite, SipMessage, final_status, received_invites
from tests.sip.sipp import SippProcess, render_scenario, wait_udp_bound, work_dir

EDGE_SCENARIOS = Path(__file__).parent / "scenarios"
SIP_PORT = 5060
# tests/sip scenarios; "answer" and "unavailable" are in tests/edge/scenarios
UAS_SCENARIOS = {"busy": "uas_busy.xml", "ring": "uas_ring.xml"}


class EdgeSipp(SippProcess):
    """One sipp bound to ip:port (media at a fixed offset from it, on the same address)."""

    def __init__(
        self, name: str, scenario: Path, args: list[str], *, ip: str, port: int, timeout: float, directory: Path
    ):
        # Media at a fixed offset on the same address, so several edges' sipps never collide.
        super().__init__(
            name,
            scenario,
            args,
            port=port,
            timeout=timeout,
            directory=directory,
            ip=ip,
            media_port=6000 + (port - 5000) * 4,  # sipp uses media_port .. +3
        )


def _edge_scenario(template: str, dest: Path, values: dict[str, str]) -> Path:
    text = (EDGE_SCENARIOS / template).read_text()
    for name, value in values.items():
        text = text.replace(f"@@{name}@@", value)
    leftover = re.search(r"@@\w+@@", text)
    if leftover:
        raise ValueError(f"{template}: {leftover.group(0)} not filled in")
    dest.write_text(text)
    return dest


class Uas:
    """A node, a carrier or a handset listening at ip:port: answers (or refuses) calls.

    `calls` is generous: sipp counts each OPTIONS probe it auto-answers (-aa) as a
    call, and stops taking calls at -m. The UAS runs until stop() or its timeout."""

    def __init__(
        self,
        name: str,
        ip: str,
        port: int = SIP_PORT,
        *,
        mode: str = "answer",
        calls: int = 100,
        hold: float = 3.0,
        timeout: float = 30.0,
    ):
        self.name, self.ip, self.port = name, ip, port
        self.mode, self.calls, self.hold, self.timeout = mode, calls, hold, timeout
        self.dir = work_dir(name)
        self.process: EdgeSipp | None = None

    def start(self) -> Uas:
        values = {"HOLD_MS": str(int(self.hold * 1000)), "RING_MS": "0"}
        if self.mode in UAS_SCENARIOS:
            scenario = render_scenario(UAS_SCENARIOS[self.mode], self.dir / f"{self.mode}.xml", values=values)
        else:
            scenario = _edge_scenario(f"uas_{self.mode}.xml", self.dir / f"{self.mode}.xml", values)
        self.process = EdgeSipp(
            "uas",
            scenario,
            ["-m", str(self.calls)],
            ip=self.ip,
            port=self.port,
            timeout=self.timeout,
            directory=self.dir,
        ).start()
        if not _wait_bound(self.ip, self.port):
            self.process.kill()
            raise RuntimeError(f"{self.name}: sipp did not bind {self.ip}:{self.port}\n{self.process.diagnostics()}")
        return self

    @property
    def invites(self) -> list[Invite]:
        return received_invites(self.process.messages()) if self.process else []

    def wait_invites(self, count: int = 1, timeout: float = 10.0) -> list[Invite]:
        deadline = time.monotonic() + timeout
        while len(self.invites) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.invites

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _wait_bound(ip: str, port: int, timeout: float = 5.0) -> bool:
    wanted = "{:08X}:{:04X}".format(int.from_bytes(bytes(map(int, reversed(ip.split(".")))), "big"), port)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if any(line.split()[1] == wanted for line in Path("/proc/net/udp").read_text().splitlines()[1:]):
                return True
        except OSError:
            pass
        time.sleep(0.02)
    return wait_udp_bound(port, 0.01)


class RegisterResult:
    def __init__(self, process: EdgeSipp, exit_code: int):
        self.exit_code = exit_code
        self.messages = process.messages()
        self.statuses = [m.status for m in self.messages if m.status and m.direction == "received"]
        self.diagnostics = process.diagnostics() if exit_code else ""

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and self.statuses[-1:] == [200]

    def __repr__(self) -> str:
        return f"REGISTER: sipp exit {self.exit_code}, responses {self.statuses}\n{self.diagnostics}"


def register(
    phone_id: str, password: str, *, ip: str, edge: str, port: int = SIP_PORT, expires: int = 3600
) -> RegisterResult:
    """REGISTER ip:port as phone_id's contact at the edge (digest auth)."""
    directory = work_dir(f"register-{phone_id}")
    scenario = render_scenario("register.xml", directory / "register.xml", values={"EXPIRES": str(expires)})
    process = EdgeSipp(
        "register",
        scenario,
        [f"{edge}:{SIP_PORT}", "-s", phone_id, "-au", phone_id, "-ap", password, "-m", "1", "-l", "1"],
        ip=ip,
        port=port,
        timeout=8,
        directory=directory,
    ).start()
    return RegisterResult(process, process.wait())


class CallResult:
    def __init__(self, process: EdgeSipp, exit_code: int, expected: int):
        self.exit_code = exit_code
        self.expected = expected
        self.messages: list[SipMessage] = process.messages()
        self.status = final_status(self.messages)
        self.diagnostics = process.diagnostics() if exit_code else ""

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and self.status == self.expected

    def __repr__(self) -> str:
        return f"call expected {self.expected}, got {self.status} (sipp exit {self.exit_code})\n{self.diagnostics}"


class Call:
    def __init__(self, process: EdgeSipp, expected: int):
        self.process, self.expected = process, expected

    def wait(self, timeout: float | None = None) -> CallResult:
        return CallResult(self.process, self.process.wait(timeout), self.expected)


def start_call(
    to: str,
    *,
    ip: str,
    edge: str,
    edge_port: int = SIP_PORT,
    port: int = SIP_PORT,
    caller: str = "caller",
    password: str | None = None,
    expect: int = 200,
    hold: float = 1.0,
    headers: dict[str, str] | None = None,
    timeout: float = 20.0,
) -> Call:
    """An INVITE to `to`@edge from ip:port: a handset's (password: digest auth) or a
    node's / carrier's (no auth). `headers` are sent as they are (forged ones too)."""
    directory = work_dir(f"call-{caller}-{to}")
    auth = password is not None
    values = {
        "FROM_USER": caller,
        "FROM_DISPLAY": "",
        "EXTRA_HEADERS": "\n".join(f"{k}: {v}" for k, v in (headers or {}).items()),
        "FIRST_TXN": "first" if auth else "invite",
        "EXPECT": str(expect),
        "CSEQ": "2" if auth else "1",
        "BYE_CSEQ": "3" if auth else "2",
        "HOLD_MS": str(max(int(hold * 1000), 1)),
    }
    sections = {"auth": auth, "answered": expect == 200, "rejected": expect != 200, "dtmf": False}
    scenario = render_scenario("uac.xml", directory / "uac.xml", sections, values)
    args = [f"{edge}:{edge_port}", "-s", to, "-m", "1", "-l", "1"]
    if auth:
        args += ["-au", caller, "-ap", password]
    process = EdgeSipp("uac", scenario, args, ip=ip, port=port, timeout=timeout, directory=directory).start()
    return Call(process, expect)


def place_call(to: str, **kwargs) -> CallResult:
    return start_call(to, **kwargs).wait()
