"""R36 at every edge: activating a number needs a free voice service of the occupier.

The demo's Acme Ltd bought 12 and uses 8 (its Active numbers and its two main numbers);
its Reserved numbers +442079460205 and +442079460303 are the ones tests activate.
"""

from __future__ import annotations

import html
import os
import subprocess
import sys

from sqlalchemy import select, update

from pbx.store.db import transaction
from pbx.store.models import AuditEntry, Occupier
from tests.web.conftest import ACME_ADMIN, GLOBEX_ADMIN, OPERATOR

RESERVED_OS, RESERVED_KX = "+442079460205", "+442079460303"
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _bought(factory, occupier: str, count: int) -> None:
    with transaction(factory) as session:
        session.execute(update(Occupier).where(Occupier.name == occupier).values(voice_licences=count))


def _text(answer) -> str:
    return html.unescape(answer.get_data(as_text=True))


def test_r36_the_console_shows_used_and_bought_per_occupier(signed_in):
    page = _text(signed_in(OPERATOR).get("/operator"))
    assert "8 / 12" in page and "3 / 5" in page and "0 / 2" in page


def test_r36_the_occupier_admin_sees_used_and_bought_on_the_telephony_page(signed_in):
    assert "8 / 12" in _text(signed_in(ACME_ADMIN).get("/telephony"))
    assert "3 / 5" in _text(signed_in(GLOBEX_ADMIN).get("/telephony"))


def test_r36_activating_in_the_console_at_the_limit_is_refused(signed_in, ids, factory):
    _bought(factory, "Acme Ltd", 9)
    operator = signed_in(OPERATOR)
    assert operator.post_form(f"/operator/numbers/{ids.numbers[RESERVED_OS]}/activate", {}).status_code == 303
    refused = operator.post_form(f"/operator/numbers/{ids.numbers[RESERVED_KX]}/activate", {})
    assert refused.status_code == 400
    assert "Acme Ltd has no free voice service: 9 of 9 bought are in use" in _text(refused)
    assert "9 / 9" in _text(operator.get("/operator"))


def test_r36_r5_a_reserved_number_is_never_made_main_so_no_voice_service_is_taken_around_activation(
    signed_in, ids, factory
):
    _bought(factory, "Acme Ltd", 8)
    refused = signed_in(OPERATOR).post_form(f"/operator/numbers/{ids.numbers[RESERVED_OS]}/main", {"destination": ""})
    assert refused.status_code == 400
    assert "activate it before making it the main number" in _text(refused)


def test_r36_activating_through_the_api_at_the_limit_is_refused_with_the_rule(signed_in, ids, factory):
    _bought(factory, "Acme Ltd", 9)
    operator = signed_in(OPERATOR)
    done = operator.write("POST", f"/api/v1/operator/numbers/{ids.numbers[RESERVED_OS]}/activate")
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["licences"] == {"used": 9, "bought": 9, "free": 0}
    refused = operator.write("POST", f"/api/v1/operator/numbers/{ids.numbers[RESERVED_KX]}/activate")
    assert refused.status_code == 400
    assert refused.get_json()["rule"] == "R36"
    assert "9 of 9" in refused.get_json()["error"]


def test_r36_the_operator_sets_the_count_through_the_api_and_it_is_audited(signed_in, ids, factory):
    operator = signed_in(OPERATOR)
    acme = ids.occupiers["Acme Ltd"]
    done = operator.write("PUT", f"/api/v1/operator/occupiers/{acme}/licences", {"bought": 20})
    assert done.status_code == 200 and done.get_json()["bought"] == 20
    assert operator.get(f"/api/v1/operator/occupiers/{acme}/licences").get_json() == {
        "used": 8,
        "bought": 20,
        "free": 12,
    }
    with transaction(factory) as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "occupier.voice_licences")).one()
        assert '"after": 20' in entry.detail and '"before": 12' in entry.detail


def test_r36_lowering_below_the_numbers_in_use_is_refused_with_the_count(signed_in, ids):
    operator = signed_in(OPERATOR)
    acme = ids.occupiers["Acme Ltd"]
    refused = operator.write("PUT", f"/api/v1/operator/occupiers/{acme}/licences", {"bought": 7})
    assert refused.status_code == 400 and refused.get_json()["rule"] == "R36"
    assert "Acme Ltd uses 8 voice services: the number bought cannot be lower than 8" in refused.get_json()["error"]
    console = operator.post_form(f"/operator/occupiers/{acme}/licences", {"bought": "3"})
    assert console.status_code == 303
    assert "cannot be lower than 8" in _text(operator.get(console.headers["Location"]))
    assert "8 / 12" in _text(operator.get("/operator"))
    assert operator.write("PUT", f"/api/v1/operator/occupiers/{acme}/licences", {"bought": -1}).status_code == 400


def test_r36_only_the_operator_sets_or_uses_the_licence_endpoints(signed_in, ids):
    admin = signed_in(ACME_ADMIN)
    acme = ids.occupiers["Acme Ltd"]
    assert admin.write("PUT", f"/api/v1/operator/occupiers/{acme}/licences", {"bought": 99}).status_code == 403
    assert admin.write("POST", f"/api/v1/operator/numbers/{ids.numbers[RESERVED_OS]}/activate").status_code == 403
    assert admin.post_form(f"/operator/occupiers/{acme}/licences", {"bought": "99"}).status_code == 403


def _pbx(store_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PBX_DATABASE_URL": store_url, "PYTHONPATH": REPO}
    return subprocess.run(
        [sys.executable, "-m", "pbx.cli", *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_r36_the_cli_sets_the_count_and_refuses_activation_at_the_limit(store_url, tmp_path):
    assert _pbx(store_url, "occupier", "licences", "set", "Acme Ltd", "7").returncode == 1
    done = _pbx(store_url, "occupier", "licences", "set", "Acme Ltd", "9")
    assert done.returncode == 0 and "8 / 9" in done.stdout, done.stderr
    assert _pbx(store_url, "numbers", "activate", RESERVED_OS).returncode == 0
    refused = _pbx(store_url, "numbers", "activate", RESERVED_KX)
    assert refused.returncode == 1
    assert "Acme Ltd has no free voice service: 9 of 9 bought are in use" in refused.stderr
    assert "9 / 9" in _pbx(store_url, "occupier", "licences", "show", "Acme Ltd").stdout
