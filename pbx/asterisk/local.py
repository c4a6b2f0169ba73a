"""Run a local Asterisk instance for development and tests.

One code path serves `pbx asterisk up|down|status`, `pbx up` and the test
fixtures. Several instances (different names and ports) run side by side in
the same chroot: each has its own directory tree, control socket and AstDB.
Config always comes from the repo (`asterisk-conf/`, `dialplan/`) plus
rendered files; nothing in the instance dir is edited by hand.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import resource
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pbx import credentials
from pbx.asterisk import ami
from pbx.asterisk.provision import AsteriskInstall, chroot_dir, provision
from pbx.asterisk.voicemail_storage import shared_voicemail, storage_files
from pbx.processes import is_ours, live_pid
from pbx.settings import Settings

RENDERED_DEFAULTS = ("pjsip_pbx.conf", "extensions_pbx.conf", "voicemail_pbx.conf")
# Written per instance with a secret in them (the AMI and ARI logins, the store's password).
SECRET_FILES = ("manager_instance.conf", "ari_instance.conf", "odbc.ini", "res_odbc.conf")
REPO_MANIFEST = ".repo-files"
PIDFILE = "pbx-asterisk.pid"
ASTERISK_PIDFILE = "asterisk.pid"  # written by Asterisk itself once it runs
CLI_TIMEOUT_S = 30
POLL_S = 0.1
VOICEMAIL_CONTEXT = "pbx"  # the voicemail context of every mailbox pbx renders
FULL_MASK = "255.255.255.255"
SHARED_SPOOL = "shared-spool"  # beside the instance dirs: see LocalAsterisk._shared_spool
# Asterisk's own name for its config folder: a symbolic link to etc/. GetConfig (AMI) serves
# only files whose real path is under that name, so it serves none (docs/security.md §1).
CONFIG_LINK = "config"
# What pbx sends and hears over AMI, and nothing wider (docs/security.md §1): `system` for
# AstDB (DBPut/DBGet/DBGetTree/DBDel/DBDelTree), PJSIPNotify and Reload, and the
# FullyBooted event; `call` for MessageWaiting (the voicemail mailer); `reporting` for
# read-only status (MailboxCount: a box's messages, for the message lamp and the tests), never
# the `call` write class (Hangup, Redirect). Never `command` (CLI commands: the local CLI uses
# Asterisk's control socket, not AMI) nor `config`.
AMI_READ, AMI_WRITE = "system,call", "system,reporting"
# The only events pbx listens to (pbx.asterisk.ami, lamp, voicemail_mail): every other one
# (Newexten per dialplan step, VarSet, Newstate, ...) is not written to pbx's sessions, so the
# agents do not parse thousands of events a second under load (bench/, docs/benchmarks.md).
# Answers to actions (DBGetTree, event lists) are not events and always come.
AMI_EVENTS = ("FullyBooted", "MessageWaiting")
RUN_AS = "asterisk"  # the unprivileged user (and group) Asterisk runs as, inside its chroot
SECRET_FILE_MODE = 0o640  # config files holding a secret: root, and Asterisk's group


class AsteriskError(RuntimeError):
    """The local Asterisk did not do what was asked; the message says why."""


def _safe(value: str, what: str) -> str:
    if any(c in value for c in "\r\n;") or value != value.strip():
        raise ValueError(f"{what} must not contain CR, LF, ';' or edge spaces")
    return value


@dataclass(frozen=True)
class AsteriskFolders:
    etc: Path  # where the controller writes rendered config
    spool: Path  # where Asterisk leaves voicemail

    @property
    def voicemail(self) -> Path:
        return self.spool / "voicemail" / VOICEMAIL_CONTEXT


def asterisk_folders(settings: Settings) -> AsteriskFolders:
    """The Asterisk pbx drives: the folders set in settings, else the local instance's.

    The one place an unset PBX_ASTERISK_ETC_DIR / PBX_ASTERISK_SPOOL_DIR is resolved;
    working the local paths out builds nothing."""
    local = LocalAsterisk(settings)
    return AsteriskFolders(
        etc=settings.asterisk_etc_dir or local.etc_dir, spool=settings.asterisk_spool_dir or local.spool_dir
    )


def _open_files_to_the_hard_limit() -> None:
    """As many open files as the machine allows, for this process and so for the Asterisk it
    starts (no preexec_fn: the caller may have threads). A call holds ~5 descriptors (RTP, RTCP,
    timer, alert pipes): the usual soft limit of 1024 would refuse calls at about 200 at once
    (bench/). Asterisk's own `maxfiles` also raises the hard limit, which an unprivileged
    container refuses with a warning on every start."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else 1_048_576  # Linux's default nr_open
    # Refused: the limit stays as it was (fewer calls at once, nothing else changes).
    if soft < wanted:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


class LocalAsterisk:
    def __init__(self, settings: Settings, install: AsteriskInstall | None = None):
        self.settings = settings
        self._install = install
        self._proc: subprocess.Popen[bytes] | None = None

    # -- paths -------------------------------------------------------------
    @property
    def install(self) -> AsteriskInstall:
        """The Asterisk binary, provisioned (chroot built) on first use."""
        if self._install is None:
            self._install = provision(self.settings)
        return self._install

    @property
    def _chrooted(self) -> bool:
        # Decided without building anything, so paths are known before provisioning.
        if self._install is not None:
            return self._install.root is not None
        return shutil.which("asterisk") is None

    @property
    def inner_dir(self) -> Path:
        """The instance dir as Asterisk sees it."""
        if self._chrooted:
            return Path("/srv/pbx") / self.settings.instance
        return self.settings.state_dir / "asterisk" / self.settings.instance

    @property
    def instance_dir(self) -> Path:
        """The instance dir on the host."""
        if self._chrooted:
            root = self._install.root if self._install and self._install.root else chroot_dir(self.settings)
            return root / self.inner_dir.relative_to("/")
        return self.inner_dir

    @property
    def etc_dir(self) -> Path:
        return self.instance_dir / "etc"

    @property
    def spool_dir(self) -> Path:
        return self.instance_dir.parent / self._shared_name if self._shared_spool else self.instance_dir / "spool"

    @property
    def _shared_spool(self) -> bool:
        """Voicemail in the store's PostgreSQL: app_voicemail_odbc keys each message by its
        full spool path (`dir`), so every node must use the same path. Instances side by side
        on one machine then share the spool folder; nodes on their own machines have it alike."""
        return shared_voicemail(self.settings)

    @property
    def _spool_inner(self) -> Path:
        return self.inner_dir.parent / self._shared_name if self._shared_spool else self.inner_dir / "spool"

    @property
    def _shared_name(self) -> str:
        # One per store: the nodes of one cluster share it, another cluster's tests do not.
        return f"{SHARED_SPOOL}-{hashlib.sha256(self.settings.database_url.encode()).hexdigest()[:12]}"

    @property
    def log_path(self) -> Path:
        return self.instance_dir / "log" / "messages"

    @property
    def _pidfile(self) -> Path:
        return self.instance_dir / "run" / PIDFILE

    @property
    def _conf_inner(self) -> str:
        return str(self.inner_dir / "etc" / "asterisk.conf")

    # -- config ------------------------------------------------------------
    def write_files(self, files: dict[str, str]) -> None:
        """Write rendered config files into etc_dir, each atomically."""
        self._ensure_installed()
        self.etc_dir.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            if "/" in name or name.startswith("."):
                raise ValueError(f"config file name {name!r} must be a plain file name")
            tmp = self.etc_dir / f".{name}.tmp"
            tmp.write_text(text)
            os.replace(tmp, self.etc_dir / name)

    def prepare(self) -> None:
        """Lay out the instance dir and copy the repo's config in, fresh."""
        self._ensure_installed()
        for sub in ("etc", "spool", "run", "log", "lib", "cache"):
            (self.instance_dir / sub).mkdir(parents=True, exist_ok=True)
        self.spool_dir.mkdir(parents=True, exist_ok=True)
        repo_files: dict[str, str] = {}
        for source_dir in (self.settings.conf_dir, self.settings.dialplan_dir):
            for path in sorted(source_dir.glob("*")):
                if path.is_file() and not path.name.startswith("."):
                    repo_files[path.name] = path.read_text()
        manifest = self.etc_dir / REPO_MANIFEST
        if manifest.exists():
            for stale in set(manifest.read_text().split()) - set(repo_files):
                (self.etc_dir / stale).unlink(missing_ok=True)
        repo_files.update(self._instance_fragments())
        repo_files.update(storage_files(self.settings))  # voicemail: spool, or the store's PostgreSQL
        self.write_files(repo_files)
        manifest.write_text("\n".join(sorted(repo_files)) + "\n")
        for name in RENDERED_DEFAULTS:
            if not (self.etc_dir / name).exists():
                self.write_files({name: "; rendered from the store\n"})
        link = self.instance_dir / CONFIG_LINK
        if not link.is_symlink():
            link.unlink(missing_ok=True)
            link.symlink_to("etc")
        self._hand_over()

    def _run_as(self) -> tuple[int, int] | None:
        """(uid, gid) of RUN_AS as Asterisk sees it (the chroot's /etc/passwd); None when pbx
        is not root (Asterisk then runs as pbx's own user, already unprivileged)."""
        if os.geteuid() != 0:
            return None
        passwd = (self.install.root or Path("/")) / "etc/passwd"
        for line in passwd.read_text().splitlines():
            fields = line.split(":")
            if len(fields) > 3 and fields[0] == RUN_AS:
                return int(fields[2]), int(fields[3])
        raise AsteriskError(f"no user {RUN_AS!r} in {passwd}: Asterisk is never run as root")

    def _hand_over(self) -> None:
        """Asterisk (RUN_AS) owns what it writes: run, log, lib (AstDB), cache, the spool.
        etc stays root's, readable by its group; the files holding a secret by no one else."""
        ids = self._run_as()
        if ids is None:
            return
        uid, gid = ids
        for top in (*(self.instance_dir / sub for sub in ("run", "log", "lib", "cache", "spool")), self.spool_dir):
            for path in (top, *top.rglob("*")):
                os.lchown(path, uid, gid)
        os.chown(self.etc_dir, 0, gid)
        self.etc_dir.chmod(0o750)
        for name in SECRET_FILES:
            path = self.etc_dir / name
            if path.exists():
                os.chown(path, 0, gid)
                path.chmod(SECRET_FILE_MODE)

    def _instance_fragments(self) -> dict[str, str]:
        s, inner = self.settings, self.inner_dir
        ami_user = _safe(s.ami_user, "ami_user")
        ari_user = _safe(s.ari_user, "ari_user")
        host = _safe(s.asterisk_host, "asterisk_host")
        # pbx runs on this machine: it reaches a loopback host from 127.0.0.1 (the
        # kernel's source for all of 127/8), any other host from that host's address;
        # PBX_AMI_PERMIT adds the other hosts that run pbx. Everyone else is denied.
        hosts = ("127.0.0.1", host, *(_safe(a, "ami_permit") for a in s.ami_permit))
        permits = "".join(f"permit = {address}/{FULL_MASK}\n" for address in dict.fromkeys(hosts))
        # verbose 0: the root console (run/asterisk.out) gets no dialplan step (logger.conf sends
        # them to the messages log, where the tests read them).
        return {
            "asterisk.conf": (
                "[directories]\n"
                f"astetcdir => {inner}/{CONFIG_LINK}\nastspooldir => {self._spool_inner}\n"
                f"astrundir => {inner}/run\nastlogdir => {inner}/log\n"
                f"astdbdir => {inner}/lib\nastvarlibdir => {inner}/lib\n"
                f"astkeydir => {inner}/lib\nastcachedir => {inner}/cache\n"
                "astdatadir => /usr/share/asterisk\n"
                "astagidir => /usr/share/asterisk/agi-bin\n\n"
                "[options]\nverbose = 0\ndebug = 0\nhideconnect = yes\n"
                "documentation_language = en_US\n"
            ),
            "manager_instance.conf": (
                f"bindaddr = {host}\nport = {s.ports.ami}\n\n[{ami_user}]\n"
                f"secret = {_safe(credentials.ami_secret(s), 'ami_secret')}\n"
                f"deny = 0.0.0.0/0.0.0.0\n{permits}"
                f"read = {AMI_READ}\nwrite = {AMI_WRITE}\n"
                f"eventfilter = ^Event: ({'|'.join(AMI_EVENTS)})[[:space:]]\n"
            ),
            "http_instance.conf": f"bindaddr = {host}\nbindport = {s.ports.http}\n",
            "ari_instance.conf": (
                f"[{ari_user}]\ntype = user\nread_only = no\n"
                f"password = {_safe(credentials.ari_password(s), 'ari_password')}\n"
            ),
            "pjsip_instance.conf": f"bind = {_safe(s.node_sip_host, 'node_sip_host')}:{s.ports.sip}\n",
            # This node's media ports (PBX_RTP_PORTS; a cluster's nodes each have their share).
            "rtp.conf": f"[general]\nrtpstart = {s.rtp_ports[0]}\nrtpend = {s.rtp_ports[1]}\n",
        }

    # -- process -----------------------------------------------------------
    def _ensure_installed(self) -> None:
        """Provision first: writing into a chroot that is not built would spoil it."""
        _ = self.install

    def _read_pid(self) -> int | None:
        # Asterisk's own pidfile covers an instance whose pbx pidfile was lost.
        pidfiles = [self._pidfile, self._pidfile.with_name(ASTERISK_PIDFILE)]
        return live_pid(pidfiles, self._conf_inner.encode(), self._proc)

    def _pid_alive(self, pid: int) -> bool:
        # A recycled pid is not ours: it must be an Asterisk on our config.
        return is_ours(pid, self._conf_inner.encode(), self._proc)

    def is_running(self) -> bool:
        pid = self._read_pid()
        return pid is not None and self._pid_alive(pid)

    def _ami_ok(self) -> bool:
        return ami.probe(self.settings, timeout=2.0)

    def up(self, timeout: float = 60) -> None:
        """Start Asterisk (idempotent) and wait until it is booted and AMI logs in."""
        self._ensure_installed()
        (self.instance_dir / "run").mkdir(parents=True, exist_ok=True)
        # Two `up`s at once (CLI and tests) must not start two Asterisks.
        with open(self.instance_dir / "run" / "up.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if self.is_running():
                self._wait_booted(time.monotonic() + timeout)
            else:
                self._start(timeout)

    def _start(self, timeout: float) -> None:
        self.prepare()
        # One log per run, so scanning it for errors sees only this run's.
        if self.log_path.exists():
            os.replace(self.log_path, self.log_path.with_name("messages.1"))
        console = self.instance_dir / "run" / "asterisk.out"
        if console.exists():
            os.replace(console, console.with_name("asterisk.out.1"))
        out = open(console, "wb")  # noqa: SIM115 (handed to Asterisk as stdout, closed once started)
        user = ("-U", RUN_AS, "-G", RUN_AS) if self._run_as() is not None else ()
        argv = self.install.argv("-f", *user, "-C", self._conf_inner)
        # unixODBC finds the instance's odbc.ini (voicemail storage) in its etc folder.
        env = {**os.environ, "ODBCSYSINI": str(self.inner_dir / "etc")}
        _open_files_to_the_hard_limit()
        self._proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=out, env=env, stderr=subprocess.STDOUT, start_new_session=True
        )
        out.close()
        self._pidfile.write_text(f"{self._proc.pid}\n")
        self._wait_booted(time.monotonic() + timeout)

    def _wait_booted(self, deadline: float) -> None:
        booted = False
        while time.monotonic() < deadline:
            if not self.is_running():
                raise AsteriskError(f"Asterisk exited during boot\n{self._log_tail()}")
            if not booted:
                booted = self._cli("core waitfullybooted", timeout=2).returncode == 0
            if booted and self._ami_ok():
                return
            time.sleep(POLL_S)
        raise AsteriskError(f"Asterisk did not boot within the timeout\n{self._log_tail()}")

    def down(self, timeout: float = 30) -> None:
        """Stop the Asterisk that `up` started, gracefully, then by SIGKILL."""
        pid = self._read_pid()
        if pid is None or not self._pid_alive(pid):
            self._pidfile.unlink(missing_ok=True)
            return
        self._cli("core stop now", timeout=min(timeout, 10))
        deadline = time.monotonic() + timeout
        while self._pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(POLL_S)
        if self._pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
            while self._pid_alive(pid) and time.monotonic() < deadline + 5:
                time.sleep(POLL_S)
        if self._proc is not None and self._proc.pid == pid:
            self._proc.wait(timeout=5)
            self._proc = None
        self._pidfile.unlink(missing_ok=True)

    def status(self) -> dict[str, Any]:
        pid = self._read_pid()
        running = pid is not None and self._pid_alive(pid)
        version = None
        if running:
            proc = self._cli("core show version", timeout=5)
            version = proc.stdout.strip() if proc.returncode == 0 else None
        ports = self.settings.ports
        return {
            "instance": self.settings.instance,
            "running": running,
            "pid": pid if running else None,
            "version": version,
            "ports": {"sip": ports.sip, "ami": ports.ami, "http": ports.http, "trunk_outbound": ports.trunk_outbound},
            "etc_dir": str(self.etc_dir),
            "log": str(self.log_path),
        }

    def command(self, cli_cmd: str) -> str:
        """Run one Asterisk CLI command on this instance and return its output."""
        if any(c in cli_cmd for c in "\r\n"):
            raise ValueError("a CLI command must be one line")
        proc = self._cli(cli_cmd, timeout=CLI_TIMEOUT_S)
        if proc.returncode != 0:
            raise AsteriskError(f"`{cli_cmd}` failed: {(proc.stdout + proc.stderr).strip()}")
        return str(proc.stdout)

    def _cli(self, cli_cmd: str, timeout: float) -> subprocess.CompletedProcess[str]:
        argv = self.install.argv("-C", self._conf_inner, "-rx", cli_cmd)
        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as exc:
            out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else exc.stdout or ""
            return subprocess.CompletedProcess(argv, 124, out, "timed out")

    def _log_tail(self, lines: int = 30) -> str:
        parts = []
        for path in (self.log_path, self.instance_dir / "run" / "asterisk.out"):
            if path.exists():
                tail = path.read_text(errors="replace").splitlines()[-lines:]
                parts.append(f"--- {path}\n" + "\n".join(tail))
        return "\n".join(parts) or "(no log written)"
