"""The Asterisk a test session runs against, with what tests need on top of
LocalAsterisk: load config and reload only what changed, fail on errors
Asterisk logs about it, and hang up every channel between tests.
"""

from __future__ import annotations

import dataclasses
import os
import re
import time
from pathlib import Path

from pbx.asterisk.local import LocalAsterisk
from pbx.credentials import with_credentials
from pbx.edge.local import LocalEdge
from pbx.edge.system import wait_linked
from pbx.settings import AsteriskPorts, Settings

TEST_INSTANCE = "test"
TEST_PORTS = {"sip": 15060, "ami": 15038, "http": 18088, "trunk_outbound": 15098}
# The addresses of the test system: the edge (where handsets register and the carrier
# sends), the node (Asterisk's SIP) and the carrier, each PBX_TEST_<NAME> overridable so
# several runs co-exist on one machine (e.g. 127.0.2.101, 127.0.2.1, 127.0.2.201).
TEST_ADDRESSES = {"edge_host": "127.0.0.1", "node_sip_host": "127.0.1.1", "carrier_host": "127.0.0.3"}
TEST_EDGE_PORTS = {"edge_sip": 15160, "edge_trunk": 15180}
HANGUP_WAIT_S = 5.0
RELINK_TIMEOUT_S = 10.0
EDGE_DRAIN_S = 10.0  # the edge's tm timer (3 s) for a BYE/CANCEL nobody answers, with margin
_RELOADS = (  # (file name pattern, CLI reload command)
    (re.compile(r"^pjsip.*\.conf$"), "module reload res_pjsip.so"),
    (re.compile(r"^(extensions.*|pbx)\.conf$"), "dialplan reload"),
    (re.compile(r"^voicemail.*\.conf$"), "voicemail reload"),
)
_PROBLEM = re.compile(r"\] (ERROR|WARNING)\[")


def settings_for_tests(state_dir: Path) -> Settings:
    """Settings of the test instance; PBX_TEST_<PORT>_PORT overrides a port.

    Own variable names, so a developer's PBX_SIP_PORT (for the dev instance)
    never points the test suite at the dev Asterisk.
    """
    base = Settings.from_env()
    ports = {
        name: int(os.environ.get(f"PBX_TEST_{name.upper()}_PORT", default)) for name, default in TEST_PORTS.items()
    }
    edge_ports = {
        name: int(os.environ.get(f"PBX_TEST_{name.upper()}_PORT", default)) for name, default in TEST_EDGE_PORTS.items()
    }
    address = {name: os.environ.get(f"PBX_TEST_{name.upper()}", default) for name, default in TEST_ADDRESSES.items()}
    instance = os.environ.get("PBX_TEST_INSTANCE", TEST_INSTANCE)
    # The secrets generated into this session's state dir, carried in the settings from here.
    return with_credentials(
        dataclasses.replace(
            base,
            state_dir=state_dir,
            database_url=f"sqlite:///{state_dir / 'pbx.db'}",
            instance=instance,
            ports=AsteriskPorts(**ports),
            edge_hosts=(address["edge_host"],),
            node_sip_host=address["node_sip_host"],
            trunk_host=address["carrier_host"],
            edge_sip_port=edge_ports["edge_sip"],
            edge_trunk_port=edge_ports["edge_trunk"],
            # Unix socket paths are short: the edges' folders are not under pytest's tmp.
            edge_runtime_dir=Path(f"/tmp/pbx-edge-{os.getuid()}"),
        )
    )


def settings_env(settings: Settings) -> dict[str, str]:
    """Environment variables that make Settings.from_env() equal `settings` (for subprocesses)."""
    return {
        "PBX_STATE_DIR": str(settings.state_dir),
        "PBX_CACHE_DIR": str(settings.cache_dir),
        "PBX_DATABASE_URL": settings.database_url,
        "PBX_INSTANCE": settings.instance,
        "PBX_SIP_PORT": str(settings.ports.sip),
        "PBX_AMI_PORT": str(settings.ports.ami),
        "PBX_HTTP_PORT": str(settings.ports.http),
        "PBX_TRUNK_OUTBOUND_PORT": str(settings.ports.trunk_outbound),
        "PBX_TRUNK_HOST": settings.trunk_host,
        "PBX_TRUNK_NAME": settings.trunk_name,
        "PBX_EDGE_HOSTS": ",".join(settings.edge_hosts),
        "PBX_EDGE_SIP_PORT": str(settings.edge_sip_port),
        "PBX_EDGE_TRUNK_PORT": str(settings.edge_trunk_port),
        "PBX_NODE_SIP_HOST": settings.node_sip_host,
        "PBX_EDGE_RUNTIME_DIR": str(settings.edge_dir),
    }


class AsteriskUnderTest:
    """A running LocalAsterisk plus test conveniences."""

    def __init__(self, local: LocalAsterisk, edges: list[LocalEdge] | None = None):
        self.local = local
        self.settings = local.settings
        self.edges = edges or []

    def command(self, cli_cmd: str) -> str:
        return self.local.command(cli_cmd)

    def restart(self, relink_timeout: float = RELINK_TIMEOUT_S) -> float:
        """Stop and start Asterisk, then wait (bounded) until the edges probe it up again and it
        reaches them, as a handset's next call needs; returns the seconds that took after boot.
        Until then the edge answers a call with 503 (it has no node): ping_interval, 1 s here."""
        self.local.down()
        self.local.up()
        booted = time.monotonic()
        wait_linked(self.settings, self.local, timeout=relink_timeout)
        return time.monotonic() - booted

    def log_mark(self) -> int:
        """A position in the messages log; see problems_since."""
        try:
            return self.local.log_path.stat().st_size
        except FileNotFoundError:
            return 0

    def log_since(self, mark: int) -> str:
        with open(self.local.log_path, "rb") as log:
            log.seek(mark)
            return log.read().decode(errors="replace")

    def problems_since(self, mark: int) -> list[str]:
        """ERROR and WARNING lines logged since mark."""
        return [line for line in self.log_since(mark).splitlines() if _PROBLEM.search(line)]

    def load_config(self, files: dict[str, str], check: bool = True, ignore: tuple[str, ...] = ()) -> list[str]:
        """Write config files, run the reloads they need; fail on ERROR/WARNING logged
        (lines containing one of `ignore` excepted). Returns the reload commands run."""
        mark = self.log_mark()
        self.local.write_files(files)
        commands = [cmd for pattern, cmd in _RELOADS if any(pattern.match(name) for name in files)]
        for cmd in commands:
            self.command(cmd)
        if check:
            time.sleep(0.1)  # the logger thread writes asynchronously
            problems = [p for p in self.problems_since(mark) if not any(i in p for i in ignore)]
            if problems:
                raise AssertionError("Asterisk complained about the config:\n" + "\n".join(problems))
        return commands

    def channel_count(self) -> int:
        match = re.search(r"(\d+) active channels?", self.command("core show channels count"))
        return int(match.group(1)) if match else 0

    def hangup_all(self) -> None:
        """Hang up every channel, so a leftover call never reaches the next test."""
        if self.channel_count():
            self.command("channel request hangup all")
        deadline = time.monotonic() + HANGUP_WAIT_S
        while self.channel_count() and time.monotonic() < deadline:
            time.sleep(0.05)
        # The edge counts a handset busy while it has a dialog (cluster-wide call waiting):
        # a call whose handset is gone ends there only when its BYE or CANCEL times out.
        deadline = time.monotonic() + EDGE_DRAIN_S
        while self.edge_dialogs() and time.monotonic() < deadline:
            time.sleep(0.1)

    def edge_dialogs(self) -> int:
        """Dialogs the edges still track (ringing or answered)."""
        total = 0
        for edge in self.edges:
            stats = edge.rpc("dlg.stats_active")
            total += int(stats.get("all", 0)) if isinstance(stats, dict) else 0
        return total
