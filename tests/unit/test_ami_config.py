"""The manager builds no event of a call, and never disables one the agents read."""

from __future__ import annotations

import re

from pbx.asterisk.local import AMI_EVENTS
from pbx.settings import REPO_ROOT


def _disabled() -> set[str]:
    text = (REPO_ROOT / "asterisk-conf" / "manager.conf").read_text()
    match = re.search(r"^disabledevents\s*=\s*(.+)$", text, re.MULTILINE)
    assert match, "manager.conf has no disabledevents line"
    return {name.strip() for name in match.group(1).split(",")}


def test_the_events_the_agents_read_are_not_disabled():
    assert not _disabled() & set(AMI_EVENTS)


def test_the_events_of_every_call_step_are_disabled():
    # A Newexten per dialplan step and a Newstate/Dial*/Hangup per channel backed up the
    # manager's queue under call load (docs/benchmarks.md).
    assert {"Newexten", "Newchannel", "Newstate", "DialBegin", "DialEnd", "Hangup", "VarSet"} <= _disabled()
