"""R39 in the operator console: the occupier's outbound call policy is shown and set there,
and a main-number destination it does not allow is refused with the rule's message."""

from __future__ import annotations

import html
import re

from tests.web.conftest import ACME_ADMIN, OPERATOR


def _ticked(page: str, occupier: str) -> list[str]:
    form = re.search(rf'<form[^>]*class="inline-form call-policy" data-occupier="{occupier}">(.*?)</form>', page, re.S)
    assert form, f"no call policy form for {occupier}"
    return re.findall(r'name="classes" value="([a-z]+)" checked', form.group(1))


def test_r39_the_console_shows_each_occupiers_classes_and_the_operator_sets_them(signed_in, ids):
    operator = signed_in(OPERATOR)
    assert _ticked(html.unescape(operator.get("/operator").get_data(as_text=True)), "Acme Ltd") == [
        "national",
        "mobile",
    ]
    acme = ids.occupiers["Acme Ltd"]
    done = operator.post_form(f"/operator/occupiers/{acme}/call-policy", {"classes": ["national", "premium"]})
    assert done.status_code == 303
    page = html.unescape(operator.get("/operator").get_data(as_text=True))
    assert "Outbound calls of Acme Ltd: national, premium/special-rate" in page
    assert _ticked(page, "Acme Ltd") == ["national", "premium"]


def test_r39_a_main_destination_of_a_class_not_allowed_is_refused_in_the_console(signed_in, ids):
    operator = signed_in(OPERATOR)
    refused = operator.post_form(
        f"/operator/numbers/{ids.numbers['+442079460300']}/main", {"destination": "+88213200000"}
    )
    assert refused.status_code == 400
    assert "Satellite calls are not allowed for Acme Ltd" in html.unescape(refused.get_data(as_text=True))


def test_r39_only_the_operator_sets_a_call_policy(signed_in, ids):
    admin = signed_in(ACME_ADMIN)
    answer = admin.post_form(f"/operator/occupiers/{ids.occupiers['Acme Ltd']}/call-policy", {"classes": ["premium"]})
    assert answer.status_code == 403
