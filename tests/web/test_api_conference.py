"""R44 over the JSON API: the occupier admin sets the conference PIN, the operator its number."""

from __future__ import annotations

import json

from sqlalchemy import select

from pbx.store import AuditEntry, Conference
from pbx.store.db import transaction
from tests.web.conftest import ACME_ADMIN, ALICE, GLOBEX_ADMIN, OPERATOR


def test_r44_the_admin_sets_the_conference_pin_stored_hashed_and_audited(signed_in, ids, factory):
    admin = signed_in(ACME_ADMIN)
    assert admin.get("/api/v1/conference").json == {
        "occupier_id": ids.occupiers["Acme Ltd"],
        "pin_set": False,
        "locked": False,
        "number_id": None,
        "number": None,
        "feature_code": "*88",
    }
    answer = admin.write("PUT", "/api/v1/conference/pin", {"pin": "4821"})
    assert answer.status_code == 200 and answer.json["conference"]["pin_set"] is True
    assert "4821" not in answer.get_data(as_text=True)
    with transaction(factory) as session:
        row = session.get(Conference, ids.occupiers["Acme Ltd"])
        assert row.pin_hash.startswith("$argon2") and "4821" not in row.pin_hash
        audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "conference.set_pin")).all()
        assert [(a.actor, a.occupier_id) for a in audit] == [(ACME_ADMIN, ids.occupiers["Acme Ltd"])]
        assert "4821" not in json.dumps([a.detail for a in audit])


def test_r44_a_weak_or_malformed_pin_is_refused_and_nothing_changes(signed_in):
    admin = signed_in(ACME_ADMIN)
    for pin, words in (
        ("12", "4 to 8 digits"),
        ("123456789", "4 to 8 digits"),
        ("12a4", "4 to 8 digits"),
        ("1111", "too easy"),
    ):
        answer = admin.write("PUT", "/api/v1/conference/pin", {"pin": pin})
        assert answer.status_code == 400 and words in json.dumps(answer.json), (pin, answer.json)
    assert admin.write("PUT", "/api/v1/conference/pin", {"pin": 4821}).status_code == 400
    assert admin.get("/api/v1/conference").json["pin_set"] is False


def test_r44_only_an_occupier_admin_sets_the_pin_and_only_the_operator_the_number(signed_in, ids):
    assert signed_in(ALICE).write("PUT", "/api/v1/conference/pin", {"pin": "4821"}).status_code == 403
    acme = ids.occupiers["Acme Ltd"]
    url = f"/api/v1/occupiers/{acme}/conference/number"
    assert signed_in(ACME_ADMIN).write("PUT", url, {"number": "+442079460204"}).status_code == 403
    operator = signed_in(OPERATOR)
    answer = operator.write("PUT", url, {"number": "+442079460204"})
    assert answer.status_code == 200 and answer.json["conference"]["number"] == "+442079460204"
    assert signed_in(ACME_ADMIN).get("/api/v1/conference").json["number"] == "+442079460204"
    assert signed_in(GLOBEX_ADMIN).get("/api/v1/conference").json["number"] is None


def test_r44_the_conference_number_is_one_of_the_occupiers_own_and_nobodys(signed_in, ids):
    operator = signed_in(OPERATOR)
    url = f"/api/v1/occupiers/{ids.occupiers['Acme Ltd']}/conference/number"
    for number, words in (
        ("+442079460201", "belongs to a user"),  # Alice's
        ("+442079460100", "main number"),
        ("+442079460205", "reserved"),
        ("+442079460502", "not a number of this occupier"),  # Globex's
    ):
        answer = operator.write("PUT", url, {"number": number})
        assert answer.status_code in (400, 409, 422) and words in json.dumps(answer.json), (number, answer.json)
    assert operator.write("PUT", url, {"number": None}).json["conference"]["number"] is None
