"""Run sipp processes for tests: one port each on 127.0.0.1 (the carrier: its own
address), bounded in time
and in calls, logged to files, and all killed at the end (`kill_all`).
"""

from __future__ import annotations

import atexit
import itertools
import os
import random
import re
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from .messages import SipMessage, parse_message_log

SIPP = "/usr/bin/sipp"
SCENARIOS = Path(__file__).parent / "scenarios"
# Asterisk's RTP uses 20000-29999 (asterisk-conf/rtp.conf); sipp stays above.
PORT_RANGE = (30000, 59990)
_SECTION = re.compile(r"[ \t]*<!--@@BEGIN (\w+)-->\n?(.*?)[ \t]*<!--@@END \1-->\n?", re.S)
_live: set[SippProcess] = set()
_work_root: Path | None = None
_counter = itertools.count(1)
_rng = random.Random(os.getpid() ^ int(time.time()))
# Ports handed out stay reserved for the process: a handset's port is briefly
# unbound between its REGISTER run and its UAS run.
_reserved: set[int] = set()


class SippError(RuntimeError):
    """sipp could not be run as asked."""


def set_work_root(path: Path) -> None:
    """Where sipp logs and rendered scenarios go (tests point it at tmp_path)."""
    global _work_root
    _work_root = Path(path)


def work_dir(name: str) -> Path:
    global _work_root
    if _work_root is None:
        _work_root = Path(tempfile.mkdtemp(prefix="pbx-sipp-"))
    path = _work_root / f"{next(_counter):03d}-{re.sub(r'[^A-Za-z0-9_.+-]', '_', name)}"
    path.mkdir(parents=True)
    return path


def _udp_bound_ports() -> set[int]:
    ports = set()
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            for line in Path(table).read_text().splitlines()[1:]:
                ports.add(int(line.split()[1].rsplit(":", 1)[1], 16))
        except OSError:
            pass
    return ports


def free_udp_port(span: int = 1) -> int:
    """An even port p with p..p+span-1 free on 127.0.0.1 (sipp binds RTP at p and p+2)."""
    bound = _udp_bound_ports()
    for _ in range(500):
        port = _rng.randrange(PORT_RANGE[0], PORT_RANGE[1], 2)
        wanted = range(port, port + span)
        if bound.intersection(wanted) or _reserved.intersection(wanted):
            continue
        try:
            for candidate in wanted:
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                    sock.bind(("127.0.0.1", candidate))
        except OSError:
            continue
        _reserved.update(wanted)
        return port
    raise SippError("no free UDP port found")


def wait_udp_bound(port: int, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port in _udp_bound_ports():
            return True
        time.sleep(0.02)
    return False


def render_scenario(
    template: str, dest: Path, sections: dict[str, bool] | None = None, values: dict[str, str] | None = None
) -> Path:
    """Fill a scenario template: keep or drop BEGIN/END sections, replace @@NAME@@."""
    text = (SCENARIOS / template).read_text()
    sections = sections or {}
    while True:
        text, count = _SECTION.subn(lambda m: m.group(2) if sections.get(m.group(1)) else "", text)
        if not count:
            break
    for name, value in (values or {}).items():
        if "\r" in value or "]]>" in value or ("\n" in value and name != "EXTRA_HEADERS"):
            raise ValueError(f"{name} would break the SIP message: {value!r}")
        if not value:  # an empty header line would end the headers
            text = re.sub(rf"^[ \t]*@@{name}@@[ \t]*\n", "", text, flags=re.M)
        text = text.replace(f"@@{name}@@", value)
    leftover = re.search(r"@@\w+@@", text)
    if leftover:
        raise SippError(f"{template}: {leftover.group(0)} not filled in")
    dest.write_text(text)
    return dest


class SippProcess:
    """One sipp run. `args` are the scenario-specific options."""

    def __init__(
        self,
        name: str,
        scenario: Path,
        args: list[str],
        *,
        port: int,
        timeout: float,
        directory: Path | None = None,
        ip: str = "127.0.0.1",
        media_port: int | None = None,
    ):
        self.name = name
        self.dir = directory or scenario.parent
        self.port = port
        self.media_port = media_port or free_udp_port(span=4)
        self.timeout = timeout
        self.message_file = self.dir / f"{name}.messages.log"
        self.screen_file = self.dir / f"{name}.screen.log"
        self.error_file = self.dir / f"{name}.errors.log"
        self.argv = [
            SIPP,
            *args,
            "-sf",
            str(scenario),
            "-t",
            "u1",
            "-i",
            ip,
            "-mi",
            ip,
            "-bind_local",
            "-p",
            str(port),
            "-mp",
            str(self.media_port),
            "-nostdin",
            "-aa",
            "-timeout",
            f"{max(1, int(timeout))}s",
            "-timeout_error",
            "-trace_msg",
            "-message_file",
            str(self.message_file),
            "-trace_err",
            "-error_file",
            str(self.error_file),
            "-trace_screen",
            "-screen_file",
            str(self.screen_file),
        ]
        self.proc: subprocess.Popen | None = None

    def start(self) -> SippProcess:
        with open(self.dir / f"{self.name}.stderr.log", "wb") as err:
            self.proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
                cwd=self.dir,
                start_new_session=True,
            )
        _live.add(self)
        return self

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait(self, timeout: float | None = None) -> int:
        """Exit code (0 all calls ok, 1 a call failed, 255 sipp's timeout); kills on our timeout."""
        if self.proc is None:
            raise SippError(f"{self.name} was never started")
        try:
            return self.proc.wait(timeout=self.timeout + 5 if timeout is None else timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return self.proc.wait(timeout=5)
        finally:
            if self.proc.poll() is not None:
                _live.discard(self)

    def kill(self) -> None:
        if self.running:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        _live.discard(self)

    def messages(self) -> list[SipMessage]:
        return parse_message_log(self.message_file)

    def stats(self) -> dict[str, int]:
        """Call counters from sipp's last screen: successful, failed."""
        counts = {}
        try:
            text = self.screen_file.read_text(errors="replace")
        except FileNotFoundError:
            return counts
        for key, label in (("successful", "Successful call"), ("failed", "Failed call")):
            lines = [ln for ln in text.splitlines() if ln.strip().startswith(label)]
            if lines:
                numbers = re.findall(r"\d+", lines[-1])
                counts[key] = int(numbers[-1]) if numbers else 0
        return counts

    def diagnostics(self) -> str:
        """The error log's tail, for assertion messages."""
        parts = []
        for path in (self.error_file, self.dir / f"{self.name}.stderr.log"):
            if path.exists() and path.stat().st_size:
                parts.append(path.read_text(errors="replace")[-2000:])
        return "\n".join(parts) or "(sipp logged no error)"


def kill_all() -> None:
    """Kill every sipp still running (end of each test, and at exit)."""
    for process in list(_live):
        process.kill()


atexit.register(kill_all)
