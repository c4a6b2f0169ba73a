"""The JSON API (/api/v1/) the pages' scripts use: same rules and messages as the forms."""

from __future__ import annotations

from pbx.services.actor import Actor
from pbx.services.features import update_features
from pbx.store.db import transaction
from tests.web.conftest import ACME_ADMIN, apply_outbox, fail_outbox

OLD_STREET = "London - Old Street"


def rows_by_number(admin, site_id):
    return {row["number"]: row for row in admin.get(f"/api/v1/sites/{site_id}/numbers").json["numbers"]}


def test_r7_sites_are_listed_alphabetically(signed_in):
    sites = signed_in(ACME_ADMIN).get("/api/v1/sites").json["sites"]
    assert [s["name"] for s in sites] == ["London - King's Cross", "London - Old Street"]


def test_r10_rows_say_who_a_number_is_assigned_to_and_r6_which_have_actions(signed_in, ids):
    rows = rows_by_number(signed_in(ACME_ADMIN), ids.sites[OLD_STREET])
    assert [(r["assigned_to"]["kind"], r["assigned_to"]["text"]) for r in rows.values()] == [
        ("main", "Main Number"),
        ("user", "Alice Archer"),
        ("user", "Bob Baker"),
        ("named", "Meeting Room 1"),
        ("unassigned", "Unassigned"),
        ("unassigned", "Unassigned"),
    ]
    assert rows["+442079460201"]["assigned_to"]["url"] == f"/users/{ids.users['alice@acme.example']}"
    assert [r["status"] for r in rows.values()] == ["active"] * 5 + ["reserved"]
    assert [r["logged_in"] for r in rows.values()] == [False, True, True, True, False, False]
    assert [r["actions"] for r in rows.values()] == [False, True, True, True, True, False]


def test_r8_search_on_the_server_matches_the_number_or_assigned_to(signed_in, ids):
    admin = signed_in(ACME_ADMIN)
    url = f"/api/v1/sites/{ids.sites[OLD_STREET]}/numbers"
    assert [r["number"] for r in admin.get(url, query_string={"search": "alice"}).json["numbers"]] == ["+442079460201"]
    assert [r["number"] for r in admin.get(url, query_string={"search": "0203"}).json["numbers"]] == ["+442079460203"]


def test_r12_assign_then_unassign_pending_until_applied(signed_in, ids, factory):
    admin = signed_in(ACME_ADMIN)
    number, dave = ids.numbers["+442079460204"], ids.users["dave@acme.example"]
    users = admin.get(f"/api/v1/numbers/{number}/users").json["users"]
    assert {u["name"]: u["selectable"] for u in users} == {
        "Adam Admin": True,
        "Alice Archer": False,
        "Bob Baker": False,
        "Carol Cooper": False,
        "Dave Dawson": True,
    }
    answer = admin.write("PUT", f"/api/v1/numbers/{number}/user", {"user_id": dave})
    assert answer.status_code == 200
    assert answer.json["number"]["assigned_to"]["text"] == "Dave Dawson"
    assert answer.json["number"]["status"] == "pending"
    apply_outbox(factory)
    assert admin.get(f"/api/v1/numbers?ids={number}").json["numbers"][0]["status"] == "active"
    taken = admin.write("PUT", f"/api/v1/numbers/{number}/user", {"user_id": ids.users["alice@acme.example"]})
    assert taken.status_code == 400 and "Alice Archer already has the number +442079460201" in taken.json["error"]
    gone = admin.write("DELETE", f"/api/v1/numbers/{number}/user")
    assert gone.json["number"]["assigned_to"]["text"] == "Unassigned"


def test_r13_display_name_overrides_the_user_name_and_keeps_the_assignment(signed_in, ids):
    admin = signed_in(ACME_ADMIN)
    number = ids.numbers["+442079460201"]
    row = admin.write("PUT", f"/api/v1/numbers/{number}/display-name", {"first": "Sales", "second": "Desk"}).json[
        "number"
    ]
    assert row["assigned_to"] == {
        "kind": "user",
        "text": "Sales Desk",
        "user_id": ids.users["alice@acme.example"],
        "url": f"/users/{ids.users['alice@acme.example']}",
    }
    bad = admin.write("PUT", f"/api/v1/numbers/{number}/display-name", {"first": "x" * 41, "second": ""})
    assert bad.status_code == 400 and bad.json["field"] == "display_name_first"


def test_r14_reset_pin_confirms_with_the_default_pin(signed_in, ids):
    answer = signed_in(ACME_ADMIN).write("POST", f"/api/v1/numbers/{ids.numbers['+442079460202']}/pin-reset")
    assert answer.json["message"] == "The PIN of +442079460202 is reset to its default PIN 590318 and unlocked"


def test_r15_handset_login_refused_when_taken_then_log_in_and_out(signed_in, ids, factory):
    admin = signed_in(ACME_ADMIN)
    number = ids.numbers["+442079460204"]
    handsets = {h["phone_id"]: h for h in admin.get(f"/api/v1/numbers/{number}/handsets").json["handsets"]}
    assert handsets["desk-os-1"] == {
        "phone_id": "desk-os-1",
        "taken": True,
        "number": "+442079460201",
        "extension": "201",
    }
    assert handsets["desk-os-4"] == {"phone_id": "desk-os-4", "taken": True, "number": None, "extension": None}
    taken = admin.write("PUT", f"/api/v1/numbers/{number}/handset", {"phone_id": "desk-os-1"})
    assert taken.status_code == 400 and "already logged in to desk-os-1" in taken.json["error"]
    logged = admin.write("PUT", f"/api/v1/numbers/{number}/handset", {"phone_id": "desk-os-5"}).json["number"]
    assert (logged["logged_in"], logged["phone_id"], logged["status"]) == (True, "desk-os-5", "pending")
    apply_outbox(factory)
    out = admin.write("DELETE", f"/api/v1/numbers/{number}/handset").json["number"]
    assert (out["logged_in"], out["status"]) == (False, "pending")


def test_r4_a_change_that_fails_to_apply_stays_pending_with_the_reason(signed_in, ids, factory):
    admin = signed_in(ACME_ADMIN)
    number = ids.numbers["+442079460204"]
    admin.write("PUT", f"/api/v1/numbers/{number}/handset", {"phone_id": "desk-os-5"})
    fail_outbox(factory, "Asterisk is not answering")
    row = admin.get(f"/api/v1/numbers?ids={number}").json["numbers"][0]
    assert (row["status"], row["last_error"]) == ("pending", "Asterisk is not answering")


def test_r5_r6_the_main_number_and_reserved_numbers_refuse_actions(signed_in, ids):
    admin = signed_in(ACME_ADMIN)
    main = admin.write("PUT", f"/api/v1/numbers/{ids.numbers['+442079460100']}/display-name", {"first": "X"})
    assert (main.status_code, main.json["rule"]) == (400, "R5")
    reserved = admin.write("PUT", f"/api/v1/numbers/{ids.numbers['+442079460205']}/handset", {"phone_id": "desk-os-5"})
    assert (reserved.status_code, reserved.json["rule"]) == (400, "R6")


def test_r21_busy_forward_with_call_waiting_is_refused_and_nothing_saved(signed_in, ids):
    admin = signed_in(ACME_ADMIN)
    number = ids.numbers["+442079460204"]
    answer = admin.write(
        "PATCH",
        f"/api/v1/numbers/{number}/features",
        {"forward_busy": "+447700900123", "call_waiting": True, "dnd": True},
    )
    assert answer.status_code == 400 and answer.json["rule"] == "R21"
    assert "Forward on busy and call waiting exclude each other" in answer.json["error"]
    assert admin.get(f"/api/v1/numbers/{number}/features").json["dnd"] is False


def test_r28_every_refused_field_is_answered_at_once(signed_in, ids):
    admin = signed_in(ACME_ADMIN)
    number = ids.numbers["+442079460204"]
    answer = admin.write(
        "PATCH", f"/api/v1/numbers/{number}/features", {"forward_always": "abc", "no_answer_seconds": 500, "dnd": True}
    )
    assert answer.status_code == 400
    assert set(answer.json["errors"]) == {"forward_always", "no_answer_seconds"}
    assert answer.json["error"] == answer.json["errors"]["forward_always"]
    assert admin.get(f"/api/v1/numbers/{number}/features").json["dnd"] is False


def test_r22_forwarding_is_refused_while_the_authorization_code_is_on(signed_in, ids, factory):
    number = ids.numbers["+442079460204"]
    with transaction(factory) as session:
        update_features(session, Actor.system("operator"), number, {"authorization_code": "4711"})
    admin = signed_in(ACME_ADMIN)
    answer = admin.write("PATCH", f"/api/v1/numbers/{number}/features", {"forward_always": "+447700900123"})
    assert (answer.status_code, answer.json["rule"]) == (400, "R22")
    code = admin.write("PATCH", f"/api/v1/numbers/{number}/features", {"authorization_code": ""})
    assert code.status_code == 403  # the operator's feature


def test_r27_cli_must_be_an_active_number_of_the_occupier_at_the_site(signed_in, ids):
    admin = signed_in(ACME_ADMIN)
    number = ids.numbers["+442079460204"]
    ok = admin.write("PATCH", f"/api/v1/numbers/{number}/features", {"cli": "+442079460100"})
    assert ok.json["features"]["cli"] == "+442079460100"
    other_site = admin.write("PATCH", f"/api/v1/numbers/{number}/features", {"cli": "+442079460300"})
    assert (other_site.status_code, other_site.json["rule"]) == (400, "R27")


def test_api_refuses_bodies_that_are_not_json_objects(signed_in, ids):
    admin = signed_in(ACME_ADMIN)
    number = ids.numbers["+442079460204"]
    assert admin.write("PUT", f"/api/v1/numbers/{number}/user", ["nope"]).status_code == 400
    assert admin.write("PUT", f"/api/v1/numbers/{number}/user", {"user_id": "3"}).status_code == 400
    assert admin.get("/api/v1/numbers?ids=1,x").status_code == 400
    assert admin.get("/api/v1/nothing-here").json["error"].startswith("Not found")


def test_api_names_every_wrong_field_at_once_with_the_pop_ups_labels(signed_in, ids):
    admin = signed_in(ACME_ADMIN)
    number = ids.numbers["+442079460204"]
    answer = admin.write("PUT", f"/api/v1/numbers/{number}/display-name", {"first": 1, "second": ["x"]})
    assert answer.status_code == 400
    assert answer.json["errors"] == {
        "first": "First part: send the first part as text",
        "second": "Second part: send the second part as text",
    }
    assert (answer.json["field"], answer.json["error"], answer.json["rule"]) == (
        "first",
        "First part: send the first part as text",
        None,
    )
    too_long = admin.write("PUT", f"/api/v1/numbers/{number}/display-name", {"first": "x" * 41})
    assert too_long.json["errors"] == {"display_name_first": "First part: must be at most 40 characters"}
    not_json = admin.write("PUT", f"/api/v1/numbers/{number}/handset", ["desk-os-5"])
    assert not_json.json["errors"] == {"body": "Request: send a JSON object"}
    assert admin.get("/api/v1/numbers?ids=1,x").json["errors"] == {
        "ids": "Number ids: give up to 500 number ids separated by commas"
    }
