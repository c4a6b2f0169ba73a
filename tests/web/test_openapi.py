"""The API is documented: /api/v1/openapi.json is valid OpenAPI 3.1 and every operation in it
answers as documented (status and body checked against its schema with jsonschema).

Each call goes with an API token of a role the operation allows, so this walks the bearer
path too. The call list must cover the document exactly: a new route without a call here,
or a call for a route that is gone, fails the test.
"""

from __future__ import annotations

import jsonschema
from openapi_spec_validator import validate

from pbx.services import api_tokens
from pbx.services.actor import Actor
from pbx.store.db import transaction
from tests.web.conftest import ACME_ADMIN, ALICE, OPERATOR

OLD_STREET = "London - Old Street"


def token_for(factory, ids, email: str, scope: str = "write") -> str:
    with transaction(factory) as session:
        return api_tokens.create_token(session, Actor.system("test"), "test", scope, user_id=ids.users[email]).secret


def calls(ids):
    """(operationId, who, path, body, status) in an order where each call's data exists."""
    free = ids.numbers["+442079460204"]  # active, unassigned, not logged in
    alice = ids.numbers["+442079460201"]
    site = ids.sites[OLD_STREET]
    acme = ids.occupiers["Acme Ltd"]
    main = ids.numbers["+442079460100"]  # Acme's main number at Old Street
    return [
        ("openapi_json", None, "/api/v1/openapi.json", None, 200),
        ("docs", None, "/api/v1/docs", None, 200),
        ("me", ALICE, "/api/v1/me", None, 200),
        ("my_numbers", ALICE, "/api/v1/me/numbers", None, 200),
        ("sites", ACME_ADMIN, "/api/v1/sites", None, 200),
        ("site_numbers", ACME_ADMIN, f"/api/v1/sites/{site}/numbers?search=20", None, 200),
        ("some_numbers", ACME_ADMIN, f"/api/v1/numbers?ids={alice},{free}", None, 200),
        ("number", ACME_ADMIN, f"/api/v1/numbers/{alice}", None, 200),
        ("features", ALICE, f"/api/v1/numbers/{alice}/features", None, 200),
        ("assignable_users", ACME_ADMIN, f"/api/v1/numbers/{free}/users", None, 200),
        ("handsets", ACME_ADMIN, f"/api/v1/numbers/{free}/handsets", None, 200),
        ("users", ACME_ADMIN, "/api/v1/users", None, 200),
        ("user_numbers", ACME_ADMIN, f"/api/v1/users/{ids.users[ALICE]}/numbers", None, 200),
        ("assign", ACME_ADMIN, f"/api/v1/numbers/{free}/user", {"user_id": ids.users["dave@acme.example"]}, 200),
        ("unassign", ACME_ADMIN, f"/api/v1/numbers/{free}/user", None, 200),
        ("display_name", ACME_ADMIN, f"/api/v1/numbers/{free}/display-name", {"first": "Desk", "second": "4"}, 200),
        ("reset_pin", ACME_ADMIN, f"/api/v1/numbers/{free}/pin-reset", None, 200),
        ("unlock_code", OPERATOR, f"/api/v1/numbers/{free}/authorization-code-reset", None, 200),
        ("log_in", ACME_ADMIN, f"/api/v1/numbers/{free}/handset", {"phone_id": "desk-os-5"}, 200),
        ("log_out", ACME_ADMIN, f"/api/v1/numbers/{free}/handset", None, 200),
        ("change_features", ALICE, f"/api/v1/numbers/{alice}/features", {"call_waiting": False}, 200),
        ("operator_occupiers", OPERATOR, "/api/v1/operator/occupiers", None, 200),
        ("operator_numbers", OPERATOR, f"/api/v1/operator/occupiers/{acme}/numbers", None, 200),
        (
            "operator_allocate",
            OPERATOR,
            "/api/v1/operator/numbers",
            {"occupier_id": acme, "site_id": site, "e164": "+442079460299", "extension": "299"},
            201,
        ),
        ("operator_activate", OPERATOR, f"/api/v1/operator/numbers/{ids.numbers['+442079460205']}/activate", None, 200),
        (
            "operator_register_handset",
            OPERATOR,
            "/api/v1/operator/handsets",
            {"site_id": site, "phone_id": "desk-os-9"},
            201,
        ),
        (
            "operator_voice_services",
            OPERATOR,
            f"/api/v1/operator/occupiers/{acme}/voice-services",
            {"active": True},
            200,
        ),
        ("list_tokens", ALICE, "/api/v1/tokens", None, 200),
        ("create_token", ALICE, "/api/v1/tokens", {"name": "script", "scope": "read"}, 201),
        ("revoke_token", ALICE, "/api/v1/tokens/{new_token}", None, 200),
        ("create_webhook", ACME_ADMIN, "/api/v1/webhooks", {"url": "http://127.0.0.1:9/hook"}, 201),
        ("list_webhooks", ACME_ADMIN, "/api/v1/webhooks", None, 200),
        ("delete_webhook", ACME_ADMIN, "/api/v1/webhooks/{new_webhook}", None, 200),
        ("events_stream", ACME_ADMIN, "/api/v1/events/stream", None, 200),
        ("portal_numbers", OPERATOR, "/api/v1/portal-numbers", None, 200),
        ("set_portal_number", OPERATOR, f"/api/v1/sites/{site}/portal-number", {"number": "+442079460999"}, 200),
        ("clear_portal_number", OPERATOR, f"/api/v1/sites/{site}/portal-number", None, 200),
        ("site_hours", OPERATOR, f"/api/v1/sites/{site}/hours", None, 200),
        (
            "set_site_hours",
            OPERATOR,
            f"/api/v1/sites/{site}/hours",
            {"timezone": "Europe/London", "weekly": {"mon": ["09:00-17:00"]}, "closed_days": ["2026-12-25"]},
            200,
        ),
        ("clear_site_hours", OPERATOR, f"/api/v1/sites/{site}/hours", None, 200),
        ("handling", OPERATOR, f"/api/v1/main-numbers/{main}/handling", None, 200),
        (
            "set_hunt",
            OPERATOR,
            f"/api/v1/main-numbers/{main}/hunt",
            {"strategy": "in_order", "members": [{"extension": "201", "ring_seconds": 15}]},
            200,
        ),
        ("set_out_of_hours", OPERATOR, f"/api/v1/main-numbers/{main}/out-of-hours", {"destination": "voicemail"}, 200),
        ("upload_greeting", OPERATOR, f"/api/v1/main-numbers/{main}/greeting", None, 400),  # no audio: refused
        ("remove_greeting", OPERATOR, f"/api/v1/main-numbers/{main}/greeting", None, 200),
        ("clear_handling", OPERATOR, f"/api/v1/main-numbers/{main}/handling", None, 200),
        ("occupier_licences", OPERATOR, f"/api/v1/operator/occupiers/{acme}/licences", None, 200),
        ("set_occupier_licences", OPERATOR, f"/api/v1/operator/occupiers/{acme}/licences", {"bought": 40}, 200),
        ("operator_numbers_list", OPERATOR, f"/api/v1/operator/numbers?occupier={acme}&status=active", None, 200),
        ("operator_numbers_csv", OPERATOR, f"/api/v1/operator/numbers.csv?occupier={acme}", None, 200),
        ("import_numbers", OPERATOR, "/api/v1/operator/numbers/import?dry_run=1", None, 400),  # no file: refused
        ("site_emergency", OPERATOR, f"/api/v1/operator/sites/{site}/emergency", None, 200),
        ("set_site_emergency", OPERATOR, f"/api/v1/operator/sites/{site}/emergency", {"numbers": ["101"]}, 200),
        ("cli_choices", ACME_ADMIN, f"/api/v1/numbers/{alice}/cli-choices?q=020", None, 200),
        ("my_conference", ACME_ADMIN, "/api/v1/conference", None, 200),
        ("conference_pin", ACME_ADMIN, "/api/v1/conference/pin", {"pin": "48151623"}, 200),
        ("conference_number", OPERATOR, f"/api/v1/occupiers/{acme}/conference/number", {"number": None}, 200),
    ]


def operations(doc):
    for path, item in doc["paths"].items():
        for method, op in item.items():
            yield op["operationId"], method.upper(), path, op


def test_the_document_is_valid_openapi_3_1(app):
    doc = app.test_client().get("/api/v1/openapi.json").json
    validate(doc)
    assert doc["openapi"].startswith("3.1")
    assert {"Error", "NumberRow", "Features"} <= set(doc["components"]["schemas"])
    assert "call_waiting" in doc["components"]["schemas"]["Features"]["properties"]  # from the feature table


def test_every_operation_answers_as_documented(app, factory, ids):
    app.config["PBX_SSE_STREAM_S"] = 0.5
    client = app.test_client()
    doc = client.get("/api/v1/openapi.json").json
    documented = {op_id: (method, path, op) for op_id, method, path, op in operations(doc)}
    planned = calls(ids)
    assert {c[0] for c in planned} == set(documented) | {"openapi_json", "docs"}
    tokens = {who: token_for(factory, ids, who) for who in (ACME_ADMIN, ALICE, OPERATOR)}
    made: dict[str, int] = {}
    for op_id, who, url, body, status in planned:
        url = url.format(**made)
        headers = {"Authorization": f"Bearer {tokens[who]}"} if who else {}
        if op_id in documented:
            method, _path, op = documented[op_id]
            assert who is None or op["x-roles"], op_id
        else:
            method, op = "GET", None
        answer = client.open(url, method=method, json=body, headers=headers)
        assert answer.status_code == status, (op_id, answer.get_data(as_text=True))
        if op is None or op_id == "docs":
            continue
        content = op["responses"][str(status)]["content"]
        if "text/csv" in content:
            assert answer.mimetype == "text/csv"
            continue
        if "text/event-stream" in content:
            assert answer.mimetype == "text/event-stream"
            assert answer.get_data(as_text=True).startswith("retry:")
            continue
        schema = {**content["application/json"]["schema"], "components": doc["components"]}
        jsonschema.validate(answer.json, schema)
        if op_id == "create_token":
            made["new_token"] = answer.json["id"]
        if op_id == "create_webhook":
            made["new_webhook"] = answer.json["id"]


def test_every_error_has_the_documented_shape(app, ids):
    client = app.test_client()
    doc = client.get("/api/v1/openapi.json").json
    schema = {"$ref": "#/components/schemas/Error", "components": doc["components"]}
    answers = [
        client.get("/api/v1/numbers/1"),  # 401: not signed in
        client.get("/api/v1/numbers/1", headers={"Authorization": "Bearer pbx_nothing_here"}),  # 401
        client.get("/api/v1/nothing-here"),  # 404
        client.post("/api/v1/tokens", json={}),  # 400: no CSRF token on a session request
    ]
    assert [a.status_code for a in answers] == [401, 401, 404, 400]
    for answer in answers:
        jsonschema.validate(answer.json, schema)
    assert answers[1].json["code"] == "unauthorized" and "revoked" in answers[1].json["error"]
    assert answers[3].json["code"] == "csrf"
