"""The server-rendered forms without a browser: features (R28), user management (R29), operator console (R31)."""

from __future__ import annotations

import html
import re

from tests.web.conftest import ACME_ADMIN, ALICE, OPERATOR, csrf_token

FEATURE_FORM = {
    "forward_always_on": "on",
    "forward_always": "+447700900111",
    "no_answer_seconds": "18",
    "voicemail": "on",
    "call_waiting": "on",
    "dnd": "on",
}


def test_r28_features_form_saves_with_one_button(signed_in, ids):
    admin = signed_in(ACME_ADMIN)
    number = ids.numbers["+442079460204"]
    saved = admin.post_form(f"/numbers/{number}/features", FEATURE_FORM)
    assert saved.status_code == 302 and saved.headers["Location"].startswith("/telephony?site=")
    features = admin.get(f"/api/v1/numbers/{number}/features").json
    assert (features["forward_always"], features["dnd"], features["hide_caller_id"]) == ("+447700900111", True, False)


def test_r21_refused_form_answers_400_with_the_message_and_what_was_typed(signed_in, ids):
    admin = signed_in(ACME_ADMIN)
    number = ids.numbers["+442079460204"]
    form = {**FEATURE_FORM, "forward_busy_on": "on", "forward_busy": "+447700900123"}
    refused = admin.post_form(f"/numbers/{number}/features", form)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "Forward on busy and call waiting exclude each other" in page
    assert 'value="+447700900123"' in page and 'value="+447700900111"' in page
    assert admin.get(f"/api/v1/numbers/{number}/features").json["forward_always"] == ""


def test_r5_the_main_numbers_features_page_is_read_only(signed_in, ids):
    page = signed_in(ACME_ADMIN).get(f"/numbers/{ids.numbers['+442079460100']}/features").get_data(as_text=True)
    assert "The main number is read-only. Nothing here can be changed." in page


def test_r30_a_user_without_a_number_is_told_so(signed_in, app):
    admin = signed_in(ACME_ADMIN)  # Adam Admin has no number
    assert "You do not have a phone number yet" in admin.get("/profile").get_data(as_text=True)
    assert admin.get("/profile/features").status_code == 404


def test_r30_my_profile_features_change_only_the_users_own_number(signed_in, ids):
    alice = signed_in(ALICE)
    assert alice.post_form("/profile/features", FEATURE_FORM).headers["Location"] == "/profile"
    assert alice.get(f"/api/v1/numbers/{ids.numbers['+442079460201']}/features").json["dnd"] is True


def test_r29_an_occupier_admin_adds_a_user_to_their_own_occupier(signed_in):
    admin = signed_in(ACME_ADMIN)
    form = {
        "first_name": "Erin",
        "last_name": "Evans",
        "email": "erin@acme.example",
        "password": "long-enough-pw",
        "role": "user",
    }
    added = admin.post_form("/users", form)
    assert added.status_code == 302
    assert "Erin Evans has no phone number" in admin.get(added.headers["Location"]).get_data(as_text=True)
    again = admin.post_form("/users", form)
    assert again.status_code == 400
    assert "There is already a user with the email erin@acme.example" in again.get_data(as_text=True)
    assert admin.post_form("/users", {**form, "role": "operator_admin"}).status_code == 400


def test_r31_operator_console_refusals_keep_the_form(signed_in, ids):
    operator = signed_in(OPERATOR)
    page = operator.get("/operator").get_data(as_text=True)
    assert "Acme Ltd" in page and "desk-os-1" in page
    form = {
        "occupier": str(ids.occupiers["Acme Ltd"]),
        "site": str(ids.sites["Manchester - Spinningfields"]),
        "e164": "+441614960999",
        "extension": "998",
    }
    refused = operator.post_form("/operator/numbers", form)
    assert refused.status_code == 400
    assert "is not based at Manchester - Spinningfields" in refused.get_data(as_text=True)
    assert 'value="+441614960999"' in refused.get_data(as_text=True)


def _error_beside(page: str, input_id: str) -> str:
    """The visible message the input names with aria-describedby."""
    assert f'id="{input_id}"' in page and f'aria-describedby="{input_id}-error"' in page, input_id
    match = re.search(rf'<p class="field-error" id="{input_id}-error">(.*?)</p>', page)
    assert match, input_id
    return re.sub(r"<[^>]+>", " ", match.group(1)).strip()


def test_r29_adding_a_user_shows_every_wrong_field_beside_it(signed_in):
    admin = signed_in(ACME_ADMIN)
    refused = admin.post_form(
        "/users",
        {"first_name": " ", "last_name": "Evans", "email": "not-an-email", "password": "short", "role": "user"},
    )
    page = html.unescape(refused.get_data(as_text=True))
    assert refused.status_code == 400
    assert _error_beside(page, "first_name") == "First name: is required"
    assert _error_beside(page, "new_email").startswith("E-mail address: ")
    assert _error_beside(page, "new_password") == "First password: use at least 8 characters"
    assert 'aria-describedby="last_name-error"' not in page and 'value="Evans"' in page


def test_r31_allocating_shows_every_wrong_field_beside_it(signed_in, ids):
    operator = signed_in(OPERATOR)
    form = {
        "occupier": str(ids.occupiers["Acme Ltd"]),
        "site": str(ids.sites["London - Old Street"]),
        "e164": "12",
        "extension": "2a",
        "default_pin": "12",
    }
    refused = operator.post_form("/operator/numbers", form)
    page = html.unescape(refused.get_data(as_text=True))
    assert refused.status_code == 400
    assert _error_beside(page, "alloc-e164") == (
        "Phone number: '12' is not a phone number in international format, e.g. +442079460000"
    )
    assert _error_beside(page, "alloc-ext") == "Extension: '2a' is not an extension: use 2 to 8 digits"
    assert _error_beside(page, "alloc-pin") == "Default PIN: a PIN is 4 to 8 digits"
    assert 'id="refusal"' not in page  # field errors are beside the fields, not in the banner


def test_r5_a_refused_main_destination_shows_beside_that_row(signed_in, ids):
    operator = signed_in(OPERATOR)
    number = ids.numbers["+442079460300"]
    refused = operator.post_form(f"/operator/numbers/{number}/main", {"destination": "112"})
    page = html.unescape(refused.get_data(as_text=True))
    assert refused.status_code == 400
    assert _error_beside(page, f"dest-{number}") == (
        "Destination: calls cannot be forwarded to the emergency number 112"
    )


def test_sign_in_asks_for_each_missing_field_beside_it(app):
    client = app.test_client()
    token = csrf_token(client.get("/sign-in").get_data(as_text=True))
    refused = client.post("/sign-in", data={"email": " ", "password": "", "csrf_token": token})
    page = html.unescape(refused.get_data(as_text=True))
    assert refused.status_code == 400
    assert _error_beside(page, "email") == "E-mail address: enter the e-mail address you sign in with"
    assert _error_beside(page, "password") == "Password: enter your password"
