"""R35: each node's agent writes the main-number greetings its AstDB names into its sounds folder.

The converted audio is in the store (MainGreeting, pbx.services.main_greeting); a node
writes `<spool>/pbx-greetings/g<id>-<digest>.wav` when it applies a main number whose
`greet` key names a file it does not have yet, before the key is put, so the first call
after the change finds the file. A sound file needs no reload. The name carries the
digest, so a file once written never changes; old ones are left (a few kB each).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from sqlalchemy.orm import Session

from pbx.asterisk.main_number_keys import greeting_name
from pbx.asterisk.snapshot import Snapshot
from pbx.store.models import MainGreeting

log = logging.getLogger(__name__)
FOLDER = "pbx-greetings"  # under Asterisk's spool: [pbx-main] plays ${ASTSPOOLDIR}/pbx-greetings/<name>
NAME_RE = re.compile(r"^g([0-9]+)-([0-9a-f]{12})$")
GREET_KEY_RE = re.compile(r"^num/[0-9]+/greet$")


def wanted_names(keys: Mapping[str, str]) -> set[str]:
    """The greetings a batch's keys name."""
    return {v for k, v in keys.items() if v and GREET_KEY_RE.match(k) and NAME_RE.match(v)}


def snapshot_names(snapshot: Snapshot) -> set[str]:
    """The greetings a full sync's numbers name."""
    return {
        greeting_name(n.id, n.handling.greeting)
        for n in snapshot.numbers
        if n.live and n.handling and n.handling.greeting
    }


def write_missing(session: Session, spool: Path, names: Iterable[str]) -> int:
    """Write every named greeting this node lacks; the number written."""
    written = 0
    folder = spool / FOLDER
    for name in sorted(n for n in names if NAME_RE.match(n)):
        target = folder / f"{name}.wav"
        if target.exists():
            continue
        match = NAME_RE.match(name)
        assert match is not None
        greeting = session.get(MainGreeting, int(match.group(1)))
        if greeting is None or greeting.digest != match.group(2):
            continue  # replaced since: a later row brings the new name
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, 0o755)
        partial = target.with_suffix(".part")
        partial.write_bytes(greeting.audio_8k)
        os.chmod(partial, 0o644)
        partial.replace(target)  # never a half-written file under a call
        written += 1
    if written:
        log.info("wrote %d main-number greeting(s) to %s", written, folder)
    return written
