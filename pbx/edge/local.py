"""Run a local SIP edge (Kamailio) for development and tests.

Like pbx/asterisk/local.py for Asterisk: one edge per EdgeConfig, each with
its own runtime dir (config, dispatcher list, pid file, RPC sockets, log), so
several edges run side by side. `up` starts Kamailio in the foreground
(-DD -E, a child of this process, logging to runtime_dir/kamailio.log) and
waits until its RPC answers and it answers an OPTIONS on its SIP port.
RPC is JSON-RPC over the unix datagram socket of the jsonrpcs module.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

from pbx.edge.render import NODE_SET, EdgeConfig, render_edge_files
from pbx.processes import is_ours, live_pid

KAMAILIO = "kamailio"
SHM_MB = 128  # transactions and dialogs at a few hundred calls a second ran 64 MB out (bench/edge_callrate_bench.py)
PKG_MB = 16
# Kamailio's default allocator (qm) keeps debugging records on every allocation; TLSF is the
# one meant for production (shared and private memory: -X follows -x).
MEMORY_MANAGER = "tlsf"
PIDFILE = "kamailio.pid"
LOG = "kamailio.log"
RPC_SOCKET = "kamailio_rpc.sock"
POLL_S = 0.05
UNIX_PATH_MAX = 107
_rpc_ids = itertools.count(1)


class EdgeError(RuntimeError):
    """The local edge did not do what was asked; the message says why."""


def kamailio_binary() -> str:
    """The kamailio binary (Debian puts it in /usr/sbin, often not on a user's PATH)."""
    for candidate in (shutil.which(KAMAILIO), "/usr/sbin/kamailio", "/usr/local/sbin/kamailio"):
        if candidate and Path(candidate).exists():
            return candidate
    raise EdgeError(
        "kamailio is not installed: run scripts/install.sh "
        "(apt-get install kamailio kamailio-sqlite-modules kamailio-postgres-modules)"
    )


class LocalEdge:
    def __init__(self, config: EdgeConfig):
        self.config = config
        self.dir = Path(config.runtime_dir)
        self._proc: subprocess.Popen[bytes] | None = None
        if len(str(self.dir / RPC_SOCKET)) > UNIX_PATH_MAX - 40:
            raise EdgeError(f"runtime_dir {self.dir} is too long for unix socket paths")

    # -- paths -------------------------------------------------------------
    @property
    def config_path(self) -> Path:
        return self.dir / "kamailio.cfg"

    @property
    def log_path(self) -> Path:
        return self.dir / LOG

    @property
    def pidfile(self) -> Path:
        return self.dir / PIDFILE

    # -- config ------------------------------------------------------------
    def write_config(self) -> None:
        """Render and write the edge's files, each atomically."""
        self.dir.mkdir(parents=True, exist_ok=True)
        for name, text in render_edge_files(self.config).items():
            tmp = self.dir / f".{name}.tmp"
            tmp.write_text(text)
            os.replace(tmp, self.dir / name)

    def check(self) -> str:
        """Render, then `kamailio -c`: the output; EdgeError if Kamailio rejects the config."""
        self.write_config()
        proc = subprocess.run(
            self._argv("-c"), capture_output=True, text=True, timeout=30, check=False, stdin=subprocess.DEVNULL
        )
        output = proc.stdout + proc.stderr
        if proc.returncode != 0 or "config file ok" not in output:
            raise EdgeError(f"kamailio -c rejected {self.config_path}:\n{output[-3000:]}")
        return output

    def argv(self, *extra: str) -> list[str]:
        """The command line running this edge's config (extra: e.g. -DD -E for the foreground)."""
        return self._argv(*extra)

    def _argv(self, *extra: str) -> list[str]:
        return [
            kamailio_binary(),
            "-f",
            str(self.config_path),
            "-Y",
            str(self.dir),
            "-m",
            str(SHM_MB),
            "-M",
            str(PKG_MB),
            "-x",
            MEMORY_MANAGER,
            *extra,
        ]

    # -- process -----------------------------------------------------------
    def _read_pid(self) -> int | None:
        return live_pid([self.pidfile, self.dir / "pbx-edge.pid"], str(self.config_path).encode(), self._proc)

    def _pid_alive(self, pid: int) -> bool:
        # A recycled pid is not ours: it must be a Kamailio on our config.
        return is_ours(pid, str(self.config_path).encode(), self._proc)

    def is_running(self) -> bool:
        return self._read_pid() is not None

    def up(self, timeout: float = 15.0) -> None:
        """Start the edge (idempotent) and wait until it answers RPC and OPTIONS."""
        if self.is_running():
            self.wait_ready(timeout)
            return
        self.check()
        for stale in (RPC_SOCKET, "kamailio_ctl"):
            (self.dir / stale).unlink(missing_ok=True)
        if self.log_path.exists():
            os.replace(self.log_path, self.log_path.with_name(LOG + ".1"))
        with open(self.log_path, "ab") as log:
            self._proc = subprocess.Popen(
                self._argv("-DD", "-E", "-P", str(self.pidfile)),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        (self.dir / "pbx-edge.pid").write_text(f"{self._proc.pid}\n")
        try:
            self.wait_ready(timeout)
        except EdgeError:
            self.down()
            raise

    def wait_ready(self, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.is_running():
                raise EdgeError(f"kamailio exited during start\n{self.log_tail()}")
            try:
                self.rpc("core.version", timeout=0.5)
                if self.sip_ping(timeout=0.5) == 200:
                    return
            except (EdgeError, OSError):
                pass
            time.sleep(POLL_S * 2)
        raise EdgeError(f"edge {self.config.name} not ready within {timeout}s\n{self.log_tail()}")

    def down(self, timeout: float = 10.0) -> None:
        """Stop the edge: SIGTERM to its process group, then SIGKILL."""
        pid = self._read_pid()
        if pid is not None:
            for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
                try:
                    os.killpg(pid, sig)
                except ProcessLookupError:
                    break
                except PermissionError:
                    os.kill(pid, sig)
                deadline = time.monotonic() + wait
                while self._pid_alive(pid) and time.monotonic() < deadline:
                    time.sleep(POLL_S)
                if not self._pid_alive(pid):
                    break
        if self._proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(timeout=5)
            self._proc = None
        for name in ("pbx-edge.pid", PIDFILE, RPC_SOCKET, "kamailio_ctl"):
            (self.dir / name).unlink(missing_ok=True)

    def status(self) -> dict[str, Any]:
        pid = self._read_pid()
        state = {
            "name": self.config.name,
            "running": pid is not None,
            "pid": pid,
            "address": self.config.address,
            "sip_port": self.config.sip_port,
            "trunk_port": self.config.trunk_port if self.config.carriers else None,
            "runtime_dir": str(self.dir),
            "log": str(self.log_path),
        }
        if pid is not None:
            try:
                state["version"] = self.rpc("core.version", timeout=2)
                state["nodes"] = self.node_states()
            except EdgeError as exc:
                state["error"] = str(exc)
        return state

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log written)"

    # -- RPC ---------------------------------------------------------------
    def rpc(self, method: str, *params: Any, timeout: float = 5.0) -> Any:
        """One JSON-RPC call over the jsonrpcs datagram socket: its result."""
        request = {"jsonrpc": "2.0", "method": method, "params": list(params), "id": next(_rpc_ids)}
        reply_path = self.dir / f"rpc-{os.getpid()}-{uuid.uuid4().hex[:8]}.sock"
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.bind(str(reply_path))
            try:
                sock.settimeout(timeout)
                sock.sendto(json.dumps(request).encode(), str(self.dir / RPC_SOCKET))
                data = sock.recv(1 << 20)
            except (TimeoutError, OSError) as exc:
                raise EdgeError(f"RPC {method} to {self.config.name}: {exc}") from None
            finally:
                reply_path.unlink(missing_ok=True)
        reply = json.loads(data.decode(errors="replace"))
        if "error" in reply:
            raise EdgeError(f"RPC {method}: {reply['error']}")
        return reply.get("result")

    def node_states(self, timeout: float = 5.0) -> dict[str, str]:
        """Each node's dispatcher state, by "address:port": e.g. "AP" (active, probing),
        "IP" (inactive), "DX" (disabled)."""
        result = self.rpc("dispatcher.list", timeout=timeout) or {}
        states = {}
        for record in result.get("RECORDS", []):
            setinfo = record.get("SET", {})
            if setinfo.get("ID") != NODE_SET:
                continue
            for target in setinfo.get("TARGETS", []):
                dest = target.get("DEST", {})
                uri = dest.get("URI", "")
                states[uri.removeprefix("sip:")] = dest.get("FLAGS", "")
        return states

    def set_node_state(self, address: str, active: bool, port: int = 5060) -> None:
        """Mark a node active, or disabled (no calls, no probing) until told otherwise,
        e.g. while its agent catches up with the change log."""
        uri = f"sip:{address}:{port}"
        if uri.removeprefix("sip:") not in self.node_states():
            raise EdgeError(f"{address}:{port} is not a node of edge {self.config.name}")
        self.rpc("dispatcher.set_state", "ap" if active else "d", NODE_SET, uri)

    def registered_contacts(self, phone_id: str) -> list[str]:
        """The contacts of a handset in this edge's location table."""
        try:
            result = self.rpc("ul.lookup", "location", phone_id)
        except EdgeError as exc:
            if "not found" in str(exc).lower():
                return []
            raise
        contacts = []
        for aor in (result or {}).get("Contacts", []) if isinstance(result, dict) else []:
            contact = aor.get("Contact", {})
            if "Address" in contact:
                contacts.append(contact["Address"])
        return contacts

    def handset_calls(self, phone_id: str) -> int:
        """Dialogs of a handset in the edge's `handset` profile (cluster-wide with DMQ)."""
        result = self.rpc("dlg.profile_get_size", "handset", phone_id)
        if isinstance(result, dict):
            result = result.get("value", result.get("size", 0))
        return int(result or 0)

    # -- SIP ---------------------------------------------------------------
    def sip_ping(self, timeout: float = 1.0) -> int | None:
        """Send OPTIONS to the edge's SIP port; the response code (None if none)."""
        address, port = self.config.address, self.config.sip_port
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind((address, 0))
            local_port = sock.getsockname()[1]
            branch = "z9hG4bK" + uuid.uuid4().hex[:16]
            message = (
                f"OPTIONS sip:{address}:{port} SIP/2.0\r\n"
                f"Via: SIP/2.0/UDP {address}:{local_port};branch={branch};rport\r\n"
                "Max-Forwards: 70\r\n"
                f"From: <sip:pbx-probe@{address}>;tag={uuid.uuid4().hex[:8]}\r\n"
                f"To: <sip:{address}:{port}>\r\n"
                f"Call-ID: {uuid.uuid4().hex}@pbx-probe\r\n"
                "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
            )
            sock.settimeout(timeout)
            sock.sendto(message.encode(), (address, port))
            try:
                data = sock.recv(65535)
            except (TimeoutError, OSError):
                return None
        first = data.split(b"\r\n", 1)[0].decode(errors="replace").split()
        return int(first[1]) if len(first) > 1 and first[0] == "SIP/2.0" and first[1].isdigit() else None
