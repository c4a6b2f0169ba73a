"""(b) The highest call rate with no failed call: trunk caller -> number -> handset answering.

sipp plays both ends on 127.0.0.1: a registered handset that answers every call, and
a trunk caller placing calls at `-r` calls per second, `-m` calls in all, each held a
moment and hung up. The rate steps up until a call fails, then bisects. No message
traces: at these rates the trace, not Asterisk, would be what is measured.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import statistics
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from pbx.asterisk.local import LocalAsterisk
from pbx.settings import Settings

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


def free_ports(count: int, avoid: int = 0) -> int:
    """The first even port p with p..p+count-1 free for UDP on 127.0.0.1 (and not `avoid`)."""
    for port in range(PORT_RANGE[0], PORT_RANGE[1], 2):
        if port <= avoid < port + count:
            continue
        try:
            for candidate in range(port, port + count):
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                    sock.bind(("127.0.0.1", candidate))
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

    def __init__(self, name: str, work: Path, args: list[str], timeout_s: float, port: int | None = None):
        self.name, self.work, self.timeout_s = name, work, timeout_s
        self.screen = work / f"{name}.screen.log"
        self.port = port or free_ports(2)
        media = free_ports(4, avoid=self.port) if port else self.port + 2
        self.argv = [
            SIPP,
            *args,
            "-t",
            "u1",
            "-i",
            "127.0.0.1",
            "-mi",
            "127.0.0.1",
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
    """The number's handset: REGISTERs from its port, then answers every call there."""

    def __init__(self, settings: Settings, phone_id: str, password: str, work: Path):
        self.settings, self.phone_id, self.password, self.work = settings, phone_id, password, work
        self.uas: Sipp | None = None

    def start(self, timeout_s: float) -> None:
        register = _scenario("register.xml", self.work, {})
        port = free_ports(6)
        reg = subprocess.run(
            [
                SIPP,
                f"127.0.0.1:{self.settings.ports.sip}",
                "-sf",
                str(register),
                "-s",
                self.phone_id,
                "-au",
                self.phone_id,
                "-ap",
                self.password,
                "-m",
                "1",
                "-t",
                "u1",
                "-i",
                "127.0.0.1",
                "-p",
                str(port),
                "-bind_local",
                "-nostdin",
                "-timeout",
                "10s",
                "-timeout_error",
            ],
            cwd=self.work,
            capture_output=True,
            timeout=20,
            stdin=subprocess.DEVNULL,
        )
        if reg.returncode != 0:
            raise RuntimeError(f"{self.phone_id} could not register (sipp {reg.returncode})")
        # The UAS listens on the port the handset registered from: its contact.
        self.uas = Sipp(
            "handset", self.work, ["-sf", str(_scenario("uas_answer.xml", self.work, {}))], timeout_s, port=port
        )
        time.sleep(0.3)  # bound before the first INVITE
        if self.uas.proc.poll() is not None:
            raise RuntimeError("the handset's sipp UAS did not start; see handset.stderr.log")

    def stop(self) -> None:
        if self.uas is not None:
            self.uas.stop()


def run_step(settings: Settings, target: str, rate: int, work: Path) -> Step:
    calls = min(rate * STEP_S, MAX_CALLS_PER_STEP)
    header = f"{settings.trunk_header}: {settings.trunk_secret}"
    scenario = _scenario("uac_trunk.xml", work, {"TRUNK_HEADER": header, "HOLD_MS": str(HOLD_MS)})
    limit = max(50, rate * (HOLD_MS // 1000 + 2) * 2)  # concurrent calls allowed: never the bound
    caller = Sipp(
        f"caller-{target.lstrip('+')}-{rate}",
        work,
        [
            f"127.0.0.1:{settings.ports.sip}",
            "-sf",
            str(scenario),
            "-s",
            target,
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
    settings: Settings, local: LocalAsterisk, target: str, work: Path, start: int = START_RATE, report=print
) -> RateSearch:
    """Ramp up from `start` by RAMP until a call fails (or MAX_RATE), then bisect BISECT_STEPS times."""
    search = RateSearch(target)
    rate, low, high = start, 0, None

    def step(at: int) -> bool:
        result = run_step(settings, target, at, work)
        search.steps.append(result)
        report(f"    {target:>16} {at:5d} calls/s: {result.successful}/{result.calls} ok, {result.failed} failed")
        _drain(local)
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
    settings: Settings,
    local: LocalAsterisk,
    targets: list[str],
    work: Path,
    rate: int = CPU_RATE,
    repeats: int = CPU_REPEATS,
    report=print,
) -> dict[str, float]:
    """Asterisk's CPU milliseconds per call for each target, at a rate well below the edge:
    the steadiest measure of what the dialplan costs (the median of `repeats` interleaved
    runs; a run with a failed call does not count)."""
    pid = local.status()["pid"]
    samples: dict[str, list[float]] = {target: [] for target in targets}
    for _ in range(repeats):
        for target in targets:
            before = _cpu_seconds(pid)
            step = run_step(settings, target, rate, work)
            used = _cpu_seconds(pid) - before
            _drain(local)
            if step.ok:
                samples[target].append(used / step.successful * 1000)
            report(
                f"    {target:>16} {rate:5d} calls/s: {step.successful}/{step.calls} ok, "
                f"Asterisk CPU {used / max(step.successful, 1) * 1000:.3f} ms per call"
            )
    return {target: statistics.median(values) if values else float("nan") for target, values in samples.items()}
