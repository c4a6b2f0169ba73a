"""The pure parts of the phone: what is keyed on it, and what a handset is sent (R15, R22, R34)."""

from __future__ import annotations

import pytest

from pbx.asterisk.ari.prompts import digits
from pbx.asterisk.handset_label import label_pushes, notify_variables
from pbx.feature_table import feature_codes
from pbx.services.phone import dialled_target, is_emergency


@pytest.mark.parametrize(
    "keyed, target",
    [
        ("202", "202"),  # an extension
        ("02079460201", "+442079460201"),  # national, at a GB site
        ("00447700900456", "+447700900456"),  # international
    ],
)
def test_r34_a_forward_target_keyed_on_the_phone(keyed, target):
    assert dialled_target(keyed, "GB") == target


def test_r34_every_freepbx_code_has_its_pair():
    codes = feature_codes()
    assert set(codes) == {"*72", "*73", "*90", "*91", "*52", "*53", "*78", "*79", "*70", "*71"}
    for on, off in (("*72", "*73"), ("*90", "*91"), ("*52", "*53"), ("*78", "*79"), ("*70", "*71")):
        assert codes[on] == (codes[off][0], True) and codes[off][1] is False


def test_r22_a_sites_own_emergency_number_is_recognised():
    assert is_emergency("+4418001111", frozenset({"18001111"}))
    assert not is_emergency("+447700900456", frozenset({"999", "112"}))


def test_only_digits_reach_a_media_uri():
    assert digits("20,1;sound:x") == "digits:201"


def test_r15_a_login_pushes_the_label_and_a_logout_clears_it():
    keys = {
        "handset/desk-os-5": "5",
        "num/5/handset": "desk-os-5",
        "num/5/label": "Meeting Room 1",
        "handset/desk-os-3": "",
        "num/3/handset": "",
        "num/3/label": "Bob Baker",
    }
    assert label_pushes(keys) == {"desk-os-5": "Meeting Room 1", "desk-os-3": ""}


def test_r15_a_number_with_no_name_is_shown_by_its_extension_and_e164():
    keys = {
        "handset/desk-os-6": "7",
        "num/7/handset": "desk-os-6",
        "num/7/label": "",
        "num/7/ext": "204",
        "num/7/e164": "+442071234567",
    }
    assert label_pushes(keys) == {"desk-os-6": "204 +442071234567"}


def test_r15_a_label_cannot_add_notify_variables_or_lines():
    variables = notify_variables('Bob, "the" \\Builder\r\nEvent=x')
    assert len(variables) == 3
    assert all("," not in v and '"' not in v and "\r" not in v and "\n" not in v for v in variables)
    assert variables[2] == "Content=Label: Bob%2C %22the%22 %5CBuilder%0D%0AEvent%3Dx"
