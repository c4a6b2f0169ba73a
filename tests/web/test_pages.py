"""The server-rendered forms without a browser: features (R28), user management (R29), operator console (R31)."""
from __future__ import annotations

from tests.web.conftest import ACME_ADMIN, ALICE, OPERATOR

FEATURE_FORM = {"forward_always_on": "on", "forward_always": "+447700900111", "no_answer_seconds": "18",
                "voicemail": "on", "call_waiting": "on", "dnd": "on"}


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
    form = {"first_name": "Erin", "last_name": "Evans", "email": "erin@acme.example", "password": "long-enough-pw",
            "role": "user"}
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
    form = {"occupier": str(ids.occupiers["Acme Ltd"]), "site": str(ids.sites["Manchester - Spinningfields"]),
            "e164": "+441614960999", "extension": "998"}
    refused = operator.post_form("/operator/numbers", form)
    assert refused.status_code == 400
    assert "is not based at Manchester - Spinningfields" in refused.get_data(as_text=True)
    assert 'value="+441614960999"' in refused.get_data(as_text=True)
