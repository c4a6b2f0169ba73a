"""Make Asterisk match the store: rendered files (targeted reloads) and AstDB keys (diffed puts).

Idempotent by construction: both halves compare with what Asterisk already has and
change only the difference, so a second run does nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from pathlib import Path

from pbx.asterisk.ami import Ami
from pbx.asterisk.live_state import FAMILY
from pbx.asterisk.render import DIALPLAN_FILE, PJSIP_FILE, VOICEMAIL_FILE

# The one reload each rendered file needs, and nothing wider: the module AMI Reload
# reloads (the first loaded of the names: voicemail is one module or its ODBC twin).
RELOADS = {
    PJSIP_FILE: ("res_pjsip.so",),
    DIALPLAN_FILE: ("pbx_config.so",),  # what `dialplan reload` reloads
    VOICEMAIL_FILE: ("app_voicemail.so", "app_voicemail_odbc.so"),
}
PIPELINE = 200  # AMI actions in flight at once: fast, without flooding the manager's queue


def changed_files(etc_dir: Path, files: dict[str, str]) -> dict[str, str]:
    changed = {}
    for name, text in files.items():
        path = etc_dir / name
        if not path.exists() or path.read_text() != text:
            changed[name] = text
    return changed


def write_files(etc_dir: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        tmp = etc_dir / f".{name}.tmp"
        tmp.write_text(text)
        tmp.replace(etc_dir / name)


async def apply_files(ami: Ami, etc_dir: Path, files: dict[str, str]) -> list[str]:
    """Write what changed and run only the reloads it needs; returns the reloads run."""
    changed = changed_files(etc_dir, files)
    write_files(etc_dir, changed)
    return [await ami.reload_module(*RELOADS[name]) for name in changed if name in RELOADS]


async def current_live_state(ami: Ami) -> dict[str, str]:
    """Every key of the family in AstDB (AMI DBGetTree: no CLI command over AMI)."""
    return await ami.db_get_tree(FAMILY)


Progress = Callable[[int, int], None]  # (done, total): a big first sync reports as it goes


async def put_keys(ami: Ami, keys: dict[str, str], progress: Progress | None = None) -> None:
    items = list(keys.items())
    for start in range(0, len(items), PIPELINE):
        await asyncio.gather(*(ami.db_put(FAMILY, key, value) for key, value in items[start : start + PIPELINE]))
        if progress is not None:
            progress(min(start + PIPELINE, len(items)), len(items))


async def push_live_state(
    ami: Ami,
    wanted: dict[str, str],
    keep: Iterable[str] = (),
    current: dict[str, str] | None = None,
    progress: Progress | None = None,
) -> tuple[int, int]:
    """Put what differs, delete what the store no longer has (except `keep`); returns (put, deleted).

    `current`: what Asterisk holds now, if the caller has just read it."""
    if current is None:
        current = await current_live_state(ami)
    kept = set(keep)
    to_put = {k: v for k, v in wanted.items() if current.get(k) != v}
    stale = [k for k in current if k not in wanted and k not in kept]
    await put_keys(ami, to_put, progress)
    for start in range(0, len(stale), PIPELINE):
        await asyncio.gather(*(ami.db_del(FAMILY, key) for key in stale[start : start + PIPELINE]))
    return len(to_put), len(stale)


def split_sendable(keys: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """(keys AMI can carry, keys refused): a CR or LF in a value would start a new AMI action.

    Values are validated long before this (no control characters in any name); this is
    the controller's own check, so one bad row written around the services costs that
    key, not the whole sync. Ami.action refuses them too, as the last line.
    """
    sendable: dict[str, str] = {}
    refused: dict[str, str] = {}
    for key, value in keys.items():
        (refused if "\r" in value or "\n" in value or "\r" in key or "\n" in key else sendable)[key] = value
    return sendable, refused


def number_of_key(key: str) -> int | None:
    """`num/12/label` -> 12; None for other keys (handsets)."""
    parts = key.split("/")
    return int(parts[1]) if len(parts) > 2 and parts[0] == "num" and parts[1].isdigit() else None
