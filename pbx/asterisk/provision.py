"""Get an Asterisk 22 binary on this machine.

Debian 12 has no Asterisk 22, so unless `asterisk` is already on the PATH we
build a Debian forky chroot once (about 45 s, 500 MB) into the cache dir and
run Asterisk inside it. The build goes to a temp dir that is renamed only when
complete, under a file lock, so a crashed or concurrent build never leaves a
half chroot that looks usable.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

from pbx.settings import Settings

CHROOT_NAME = "asterisk-forky"
COMPLETE_MARKER = ".pbx-chroot-complete"
# Every package the chroot must hold. A chroot built before a package was added here
# gets it installed on the next provision (the marker records what is installed).
# odbc-postgresql and unixodbc: app_voicemail_odbc/res_odbc reach the store's PostgreSQL.
# asterisk-moh-opsound-gsm: R44 hold music (the sounds package has none; GSM like the prompts).
PACKAGES = (
    "asterisk",
    "asterisk-modules",
    "asterisk-core-sounds-en-gsm",
    "odbc-postgresql",
    "unixodbc",
    "asterisk-moh-opsound-gsm",
)
SUITE = "forky"
# Debian 12's debootstrap has no forky script; sid's builds it fine.
DEBOOTSTRAP_SCRIPT = "/usr/share/debootstrap/scripts/sid"
BUILD_TIMEOUT_S = 1800
INSTALL_TIMEOUT_S = 900


class ProvisionError(RuntimeError):
    """Asterisk cannot be made available; the message says why in one line."""


@dataclass(frozen=True)
class AsteriskInstall:
    """Where the binary lives: `root` is the chroot dir, or None for a host binary."""

    root: Path | None
    binary: str

    def argv(self, *args: str) -> list[str]:
        """Command line running the asterisk binary (inside the chroot if any)."""
        if self.root is None:
            return [self.binary, *args]
        return ["chroot", str(self.root), self.binary, *args]


def debian_mirror() -> str:
    """The Debian mirror apt already uses here (never hard-coded in the repo)."""
    sources = sorted(Path("/etc/apt/sources.list.d").glob("*.sources"))
    for path in sources:
        for line in path.read_text().splitlines():
            match = re.match(r"\s*URIs:\s*(\S+)", line)
            if match and "security" not in match.group(1):
                return match.group(1)
    legacy = Path("/etc/apt/sources.list")
    if legacy.exists():
        for line in legacy.read_text().splitlines():
            match = re.match(r"\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)", line)
            if match and "security" not in match.group(1):
                return match.group(1)
    raise ProvisionError("no Debian mirror found in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list")


def _build_chroot(target: Path) -> None:
    if os.geteuid() != 0:
        raise ProvisionError("building the Asterisk chroot needs root (or put `asterisk` on the PATH)")
    if not shutil.which("debootstrap"):
        raise ProvisionError("debootstrap is missing: apt-get install debootstrap (or put `asterisk` on the PATH)")
    if not Path(DEBOOTSTRAP_SCRIPT).exists():
        raise ProvisionError(f"debootstrap script {DEBOOTSTRAP_SCRIPT} is missing")
    tmp = target.with_name(target.name + ".building")
    if tmp.exists():
        _unmount_all(tmp)
        shutil.rmtree(tmp)
    argv = [
        "debootstrap",
        "--variant=minbase",
        f"--include={','.join(PACKAGES)}",
        SUITE,
        str(tmp),
        debian_mirror(),
        DEBOOTSTRAP_SCRIPT,
    ]
    log = target.with_name(target.name + ".build.log")
    with open(log, "wb") as out:
        try:
            proc = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, timeout=BUILD_TIMEOUT_S)
        except subprocess.TimeoutExpired as exc:
            raise ProvisionError(f"debootstrap took over {BUILD_TIMEOUT_S} s; see {log}") from exc
    if proc.returncode != 0 or not (tmp / "usr/sbin/asterisk").exists():
        tail = log.read_text(errors="replace").strip().splitlines()[-1:] or ["?"]
        raise ProvisionError(f"debootstrap failed ({proc.returncode}): {tail[0]} — see {log}")
    _write_marker(tmp, set(PACKAGES))
    tmp.rename(target)


def installed_packages(root: Path) -> set[str]:
    """What the marker says the chroot holds; an old marker ("ok") names only the first set."""
    text = (root / COMPLETE_MARKER).read_text()
    for line in text.splitlines():
        if line.startswith("packages:"):
            return {name for name in line.split(":", 1)[1].split(",") if name.strip()}
    return {"asterisk", "asterisk-modules", "asterisk-core-sounds-en-gsm"}


def _write_marker(root: Path, packages: set[str]) -> None:
    tmp = root / f"{COMPLETE_MARKER}.tmp"
    tmp.write_text(f"ok\npackages:{','.join(sorted(packages))}\n")
    os.replace(tmp, root / COMPLETE_MARKER)


def missing_packages(have: set[str]) -> list[str]:
    """The packages wanted (PACKAGES, in order) that a chroot holding `have` lacks."""
    return [name for name in PACKAGES if name not in have]


def _install_missing(root: Path) -> None:
    """Install into a complete chroot the packages added to PACKAGES since it was built.

    Runs under the provisioning lock; only adds packages, never removes one."""
    have = installed_packages(root)
    missing = missing_packages(have)
    if not missing:
        return
    if os.geteuid() != 0:
        raise ProvisionError(f"the Asterisk chroot lacks {', '.join(missing)}: installing them needs root")
    _bind_mounts(root)
    (root / "etc/apt/sources.list").write_text(f"deb {debian_mirror()} {SUITE} main\n")
    log = root.with_name(root.name + ".install.log")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    with open(log, "ab") as out:
        # The mirror may be a dated snapshot (debootstrap does not check Valid-Until either).
        for argv in (
            ["apt-get", "-o", "Acquire::Check-Valid-Until=false", "update"],
            ["apt-get", "install", "-y", "--no-install-recommends", *missing],
        ):
            try:
                proc = subprocess.run(
                    ["chroot", str(root), *argv],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    timeout=INSTALL_TIMEOUT_S,
                    env=env,
                    stdin=subprocess.DEVNULL,
                )
            except subprocess.TimeoutExpired as exc:
                raise ProvisionError(
                    f"`{' '.join(argv)}` in the chroot took over {INSTALL_TIMEOUT_S} s; see {log}"
                ) from exc
            if proc.returncode != 0:
                raise ProvisionError(f"`{' '.join(argv)}` in the chroot failed ({proc.returncode}); see {log}")
    _write_marker(root, have | set(missing))


def _mounted(path: Path) -> bool:
    wanted = str(path.resolve())
    with open("/proc/self/mountinfo") as info:
        return any(line.split()[4] == wanted for line in info)


def _unmount_all(root: Path) -> None:
    for sub in ("proc", "dev"):
        if _mounted(root / sub):
            subprocess.run(["umount", "-l", str(root / sub)], check=False)


def _bind_mounts(root: Path) -> None:
    for sub in ("dev", "proc"):
        point = root / sub
        point.mkdir(exist_ok=True)
        if not _mounted(point):
            proc = subprocess.run(["mount", "--bind", f"/{sub}", str(point)], capture_output=True, text=True)
            if proc.returncode != 0 and not _mounted(point):
                raise ProvisionError(f"cannot bind-mount /{sub} into {root}: {proc.stderr.strip()}")


def _prepare_chroot(root: Path) -> None:
    # Without the host name in /etc/hosts every Dial resolves it over DNS.
    (root / "etc/hosts").write_text(f"127.0.0.1 localhost {socket.gethostname()}\n::1 localhost\n")
    _bind_mounts(root)
    (root / "run/asterisk").mkdir(parents=True, exist_ok=True)


def chroot_dir(settings: Settings) -> Path:
    return settings.cache_dir / CHROOT_NAME


def provision(settings: Settings) -> AsteriskInstall:
    """Return a usable Asterisk, building the chroot the first time."""
    host_binary = shutil.which("asterisk")
    if host_binary:
        return AsteriskInstall(root=None, binary=host_binary)
    target = chroot_dir(settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.with_name(target.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (target / COMPLETE_MARKER).exists():
            if target.exists():
                raise ProvisionError(f"{target} exists but is incomplete: remove it and retry")
            try:
                _build_chroot(target)
            except ProvisionError:
                # A mirror hiccup on a fresh CI machine should not fail the whole run.
                _build_chroot(target)
        _install_missing(target)
        if os.geteuid() != 0:
            raise ProvisionError("running Asterisk in the chroot needs root")
        _prepare_chroot(target)
    return AsteriskInstall(root=target, binary="asterisk")
