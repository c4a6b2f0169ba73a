"""Background processes that `pbx up` starts and `pbx down` stops, tracked by pid files."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from pbx.settings import process_env


def is_ours(pid: int, marker: bytes, child: subprocess.Popen[bytes] | None = None) -> bool:
    """A live (not zombie) process whose command line holds `marker` (its config file): a
    recycled pid that now belongs to something else is not ours."""
    if child is not None and child.pid == pid:
        return child.poll() is None
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z" and marker in cmdline


def live_pid(pidfiles: list[Path], marker: bytes, child: subprocess.Popen[bytes] | None = None) -> int | None:
    """The first pid written in `pidfiles` that is still ours (see is_ours)."""
    for path in pidfiles:
        try:
            pid = int(path.read_text().strip())
        except (OSError, ValueError):
            continue
        if is_ours(pid, marker, child):
            return pid
    return None


class Background:
    def __init__(self, run_dir: Path, name: str) -> None:
        self.name = name
        self.pidfile = run_dir / f"{name}.pid"
        self.logfile = run_dir / f"{name}.log"

    def pid(self) -> int | None:
        try:
            pid = int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return pid
        return pid

    def start(self, args: list[str], env: dict[str, str] | None = None) -> int:
        """Start `python -m pbx.cli ARGS` in its own session, unless it already runs."""
        running = self.pid()
        if running:
            return running
        self.pidfile.parent.mkdir(parents=True, exist_ok=True)
        with open(self.logfile, "ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "pbx.cli", *args],
                stdout=log,
                stderr=log,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                env=process_env(env),
            )
        self.pidfile.write_text(str(process.pid))
        return process.pid

    def stop(self, timeout: float = 10) -> bool:
        pid = self.pid()
        if pid is None:
            self.pidfile.unlink(missing_ok=True)
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.pid() is not None:
            time.sleep(0.1)
        if self.pid() is not None:
            os.kill(pid, signal.SIGKILL)
        self.pidfile.unlink(missing_ok=True)
        return True
