"""Background processes that `pbx up` starts and `pbx down` stops, tracked by pid files."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from pbx.settings import process_env


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
