"""R41 (the lamp's NOTIFY body, which handsets a change moves) and R34 (a refusal's spoken reason): pure parts."""

from __future__ import annotations

from pbx.asterisk.ari.prompts import REFUSED
from pbx.asterisk.ari.reasons import refusal
from pbx.asterisk.lamp import Counts, lamp_changes, notify_variables, summary_lines
from pbx.feature_table import feature
from pbx.services.errors import InvalidInput, RuleBroken
from pbx.settings import Settings


def test_r41_the_summary_says_waiting_only_for_new_messages():
    assert summary_lines(Counts(2, 1), "127.0.0.1") == [
        "Messages-Waiting: yes",
        "Message-Account: sip:*97@127.0.0.1",
        "Voice-Message: 2/1 (0/0)",
        "",
    ]
    assert summary_lines(Counts(0, 3), "127.0.0.1")[0] == "Messages-Waiting: no"


def test_r41_the_notify_variables_carry_no_separator_ami_would_split():
    variables = notify_variables(Counts(1, 0), Settings.from_env())
    assert variables[:2] == ["Event=message-summary", "Content-Type=application/simple-message-summary"]
    assert all("," not in v and "\r" not in v and "\n" not in v for v in variables)


def test_r41_hot_desk_moves_the_lamp_a_label_change_does_not():
    before = {"handset/desk-1": "5", "num/5/handset": "desk-1", "handset/desk-2": "", "num/5/label": "Room"}
    moved = {**before, "handset/desk-1": "", "num/5/handset": "desk-2", "handset/desk-2": "5"}
    assert lamp_changes(before, moved) == {"desk-1": None, "desk-2": 5}
    assert lamp_changes(before, {**before, "num/5/label": "Board Room"}) == {}
    assert lamp_changes(before, {**before, "handset/desk-1": "5;x"}) == {"desk-1": None}  # never a non-number


def said(sounds: tuple[str, ...]) -> list[str]:
    return [s.removeprefix("sound:") for s in sounds]


def test_r34_r21_the_reason_names_the_feature_in_the_way_both_ways():
    error = RuleBroken("R21", "exclusive")
    assert said(refusal(error, feature("forward_busy"))) == [
        "im-sorry", "call-waiting", "is-set-to", "activated", "call-fwd-on-busy", "feature-not-avail-line"
    ]  # fmt: skip
    assert said(refusal(error, feature("call_waiting")))[1:5] == [
        "call-fwd-on-busy",
        "is-set-to",
        "activated",
        "call-waiting",
    ]


def test_r34_r22_and_other_refusals():
    assert said(refusal(RuleBroken("R22", "x"), feature("forward_no_answer")))[1:5] == [
        "vm-password", "is-set-to", "activated", "call-fwd-no-ans"
    ]  # fmt: skip
    assert said(refusal(RuleBroken("R20", "loop"), feature("forward_always"))) == [
        "im-sorry", "call-forwarding", "cannot-complete-as-dialed"
    ]  # fmt: skip
    assert said(refusal(RuleBroken("R6", "reserved"), feature("dnd"))) == ["im-sorry", "ss-noservice"]
    assert refusal(InvalidInput("x", "y"), feature("dnd")) == REFUSED
    assert refusal(RuleBroken("R99", "unknown"), feature("dnd")) == REFUSED
