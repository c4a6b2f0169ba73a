"""The highest call rate with no failed call: a caller -> a number -> a handset answering.

sipp plays both ends on loopback: a handset that answers every call, and a caller placing
calls at `-r` calls per second, `-m` calls in all, each held a moment and hung up. A
`CallPath` says where the caller sends (the edge's trunk port, or straight to a node), from
which address, and what it dials. The rate steps up until a call fails, then bisects. No
message traces: at these rates the trace, not Asterisk, would be what is measured.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import sipwire

from pbx.asterisk.local import LocalAsterisk

SIPP = "/usr/bin/sipp"
SCENARIOS = Path(__file__).parent / "scenarios"
# Below Asterisk's RTP range (20000-29999) and the test harness's sipp ports (30000+).
PORT_RANGE = (17100, 17900)
STEP_S = 5  # seconds of calls per rate step
HOLD_MS = 1000  # answered call length
MAX_CALLS_PER_STEP = 6000
START_RATE, MAX_RATE, RAMP = 100, 1500, 1.25
BISECT_STEPS = 3
DRAIN_TIMEOUT_S = 15
CPU_RATE, CPU_REPEATS = 150, 3  # the CPU-per-call measure: a steady rate, interleaved runs


@dataclass(frozen=True)
class CallPath:
    """Where a caller sends its INVITEs (host:port), from which address, to which number."""

    name: str
    dest: str
    caller_ip: str
    target: str
    header: str = "Subject: bench"  # one extra header line (the scenario's @@TRUNK_HEADER@@)


@dataclass
class Step:
    rate: int
    calls: int
    successful: int
    failed: int
    exit_code: int

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and self.failed == 0 and self.successful == self.calls


@dataclass
class RateSearch:
    target: str
    steps: list[Step] = field(default_factory=list)

    @property
    def best(self) -> int:
        return max((s.rate for s in self.steps if s.ok), default=0)


def free_ports(count: int, avoid: int = 0, ip: str = "127.0.0.1") -> int:
    """The first even port p with p..p+count-1 free for UDP on `ip` (and not `avoid`)."""
    for port in range(PORT_RANGE[0], PORT_RANGE[1], 2):
        if port <= avoid < port + count:
            continue
        try:
            for candidate in range(port, port + count):
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                    sock.bind((ip, candidate))
        except OSError:
            continue
        return port
    raise RuntimeError(f"no {count} free UDP ports in {PORT_RANGE}")


def _scenario(name: str, work: Path, values: dict[str, str]) -> Path:
    text = (SCENARIOS / name).read_text()
    for key, value in values.items():
        text = text.replace(f"@@{key}@@", value)
    path = work / name
    path.write_text(text)
    return path


class Sipp:
    """One sipp process, bounded in time (its own -timeout and ours), output in work/."""

    def __init__(
        self, name: str, work: Path, args: list[str], timeout_s: float, port: int | None = None, ip: str = "127.0.0.1"
    ):
        self.name, self.work, self.timeout_s = name, work, timeout_s
        self.screen = work / f"{name}.screen.log"
        self.port = port or free_ports(2, ip=ip)
        media = free_ports(4, avoid=self.port, ip=ip) if port else self.port + 2
        self.argv = [
            SIPP,
            *args,
            "-t",
            "u1",
            "-i",
            ip,
            "-mi",
            ip,
            "-bind_local",
            "-p",
            str(self.port),
            "-mp",
            str(media),
            "-nostdin",
            "-timeout",
            f"{int(timeout_s)}s",
            "-trace_screen",
            "-screen_file",
            str(self.screen),
            "-trace_err",
            "-error_file",
            str(work / f"{name}.errors.log"),
        ]
        with open(work / f"{name}.stderr.log", "wb") as err:
            self.proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
                cwd=work,
                start_new_session=True,
            )

    def wait(self) -> int:
        try:
            return self.proc.wait(timeout=self.timeout_s + 10)
        except subprocess.TimeoutExpired:
            self.stop()
            return self.proc.wait(timeout=5)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)

    def counts(self) -> tuple[int, int]:
        """(successful, failed) from sipp's final screen."""
        found = {"Successful call": 0, "Failed call": 0}
        try:
            text = self.screen.read_text(errors="replace")
        except FileNotFoundError:
            return 0, 0
        for line in text.splitlines():
            for label in found:
                if line.strip().startswith(label):
                    numbers = re.findall(r"\d+", line)
                    found[label] = int(numbers[-1]) if numbers else 0
        return found["Successful call"], found["Failed call"]


class Handset:
    """A handset that answers every call: REGISTERs at `registrar` (an edge's SIP port) from
    its own port on `ip` (bench/sipwire.py, digest auth), then a sipp UAS answers there."""

    def __init__(self, registrar: tuple[str, int], ip: str, phone_id: str, password: str, work: Path):
        self.registrar, self.ip, self.phone_id, self.password, self.work = registrar, ip, phone_id, password, work
        self.uas: Sipp | None = None

    def start(self, timeout_s: float) -> None:
        port = free_ports(6, ip=self.ip)
        endpoint = sipwire.Endpoint(self.ip, port)
        try:
            status = sipwire.register(endpoint, self.registrar, self.phone_id, self.password)
        finally:
            endpoint.close()
        if status != 200:
            raise RuntimeError(f"{self.phone_id} could not register (answer {status})")
        self.serve(port, timeout_s)

    def serve(self, port: int, timeout_s: float) -> None:
        """Answer every call at ip:port (the contact)."""
        self.uas = Sipp(
            f"handset-{self.phone_id}",
            self.work,
            ["-sf", str(_scenario("uas_answer.xml", self.work, {}))],
            timeout_s,
            port=port,
            ip=self.ip,
        )
        time.sleep(0.3)  # bound before the first INVITE
        if self.uas.proc.poll() is not None:
            raise RuntimeError(f"the handset's sipp UAS did not start; see handset-{self.phone_id}.stderr.log")

    def stop(self) -> None:
        if self.uas is not None:
            self.uas.stop()


def run_step(path: CallPath, rate: int, work: Path) -> Step:
    calls = min(rate * STEP_S, MAX_CALLS_PER_STEP)
    scenario = _scenario("uac_trunk.xml", work, {"TRUNK_HEADER": path.header, "HOLD_MS": str(HOLD_MS)})
    limit = max(50, rate * (HOLD_MS // 1000 + 2) * 2)  # concurrent calls allowed: never the bound
    caller = Sipp(
        f"caller-{path.name}-{rate}",
        work,
        [
            path.dest,
            "-sf",
            str(scenario),
            "-s",
            path.target,
            "-r",
            str(rate),
            "-m",
            str(calls),
            "-l",
            str(limit),
            "-recv_timeout",
            "10000",
            "-timeout_error",
        ],
        timeout_s=calls / rate + HOLD_MS / 1000 + 30,
        ip=path.caller_ip,
    )
    code = caller.wait()
    successful, failed = caller.counts()
    return Step(rate, calls, successful, failed, code)


def _drain(local: LocalAsterisk) -> None:
    """Every call of a step ends before the next step starts (bounded)."""
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    while time.monotonic() < deadline:
        match = re.search(r"(\d+) active channels?", local.command("core show channels count"))
        if not match or match.group(1) == "0":
            return
        time.sleep(0.2)
    local.command("channel request hangup all")
    time.sleep(1)


def find_max_rate(
    path: CallPath, local: LocalAsterisk, work: Path, start: int = START_RATE, report=print, drain=None
) -> RateSearch:
    """Ramp up from `start` by RAMP until a call fails (or MAX_RATE), then bisect BISECT_STEPS times."""
    search = RateSearch(path.name)
    rate, low, high = start, 0, None

    def step(at: int) -> bool:
        result = run_step(path, at, work)
        search.steps.append(result)
        report(f"    {path.name:>16} {at:5d} calls/s: {result.successful}/{result.calls} ok, {result.failed} failed")
        (drain or _drain)(local)
        return result.ok

    while rate <= MAX_RATE:
        if not step(rate):
            high = rate
            break
        low, rate = rate, int(rate * RAMP)
    for _ in range(BISECT_STEPS if high else 0):
        rate = (low + high) // 2
        if rate in (low, high):
            break
        low, high = (rate, high) if step(rate) else (low, rate)
    return search


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_per_call(
    paths: list[CallPath],
    local: LocalAsterisk,
    work: Path,
    processes: dict[str, Callable[[], list[int]]],
    rate: int = CPU_RATE,
    repeats: int = CPU_REPEATS,
    report=print,
    drain=None,
) -> dict[str, dict[str, float]]:
    """CPU milliseconds per call of each group of `processes` (e.g. "asterisk": [its pid],
    "edge": Kamailio's), for each path, at a rate well below the edge: the steadiest measure
    of what a path costs (the median of `repeats` interleaved runs; a run with a failed call
    does not count). Returns {path name: {group: ms per call}}."""
    samples: dict[str, dict[str, list[float]]] = {p.name: {g: [] for g in processes} for p in paths}
    for _ in range(repeats):
        for path in paths:
            pids = {group: find() for group, find in processes.items()}
            before = {group: sum(_cpu_seconds(pid) for pid in found) for group, found in pids.items()}
            step = run_step(path, rate, work)
            used = {group: sum(_cpu_seconds(pid) for pid in found) - before[group] for group, found in pids.items()}
            (drain or _drain)(local)
            per_call = {group: seconds / max(step.successful, 1) * 1000 for group, seconds in used.items()}
            if step.ok:
                for group, value in per_call.items():
                    samples[path.name][group].append(value)
            shown = ", ".join(f"{group} {value:.3f}" for group, value in per_call.items())
            report(
                f"    {path.name:>16} {rate:5d} calls/s: {step.successful}/{step.calls} ok, CPU ms per call: {shown}"
            )
    return {
        name: {group: statistics.median(values) if values else float("nan") for group, values in groups.items()}
        for name, groups in samples.items()
    }
