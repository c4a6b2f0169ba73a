"""R3 and the roles: who reaches which page, and another occupier's ids are not found."""

from __future__ import annotations

import pytest

from tests.web.conftest import ACME_ADMIN, ALICE, GLOBEX_ADMIN, INITECH_ADMIN, OPERATOR

ADMIN_PAGES = ["/telephony", "/users", "/api/v1/sites", "/api/v1/users"]
OPERATOR_PAGES = ["/operator"]


@pytest.mark.parametrize("url", ADMIN_PAGES + OPERATOR_PAGES)
def test_r3_a_user_reaches_only_my_profile(signed_in, url):
    alice = signed_in(ALICE)
    assert alice.get("/profile").status_code == 200
    assert alice.get(url).status_code == 403


@pytest.mark.parametrize("url", [*ADMIN_PAGES, "/profile", "/api/v1/me/numbers"])  # /api/v1/me: anyone signed in
def test_r3_the_operator_reaches_only_the_operator_console(signed_in, url):
    operator = signed_in(OPERATOR)
    assert operator.get("/operator").status_code == 200
    assert operator.get(url).status_code == 403


def test_r3_an_occupier_admin_does_not_reach_the_operator_console(signed_in):
    admin = signed_in(ACME_ADMIN)
    assert admin.get("/operator").status_code == 403
    assert admin.post_form("/operator/handsets", {"site": "1", "phone_id": "sneaky"}).status_code == 403


def test_r3_another_occupiers_numbers_are_not_found_by_url_or_api(signed_in, ids):
    globex = signed_in(GLOBEX_ADMIN)
    acme_number = ids.numbers["+442079460201"]
    kings_cross = ids.sites["London - King's Cross"]  # a site Globex is not based at
    assert globex.get(f"/numbers/{acme_number}/features").status_code == 404
    assert globex.get(f"/telephony?site={kings_cross}").status_code == 404
    for url in (
        f"/api/v1/numbers/{acme_number}",
        f"/api/v1/numbers/{acme_number}/features",
        f"/api/v1/numbers/{acme_number}/users",
        f"/api/v1/numbers/{acme_number}/handsets",
        f"/api/v1/numbers?ids={acme_number}",
        f"/api/v1/sites/{kings_cross}/numbers",
        f"/api/v1/users/{ids.users[ALICE]}/numbers",
    ):
        answer = globex.get(url)
        assert answer.status_code == 404, url
        assert "not found" in answer.json["error"]
    assert globex.get(f"/users/{ids.users[ALICE]}").status_code == 404


def test_r3_another_occupiers_numbers_cannot_be_changed_whatever_the_body_says(signed_in, ids):
    globex = signed_in(GLOBEX_ADMIN)
    acme_number = ids.numbers["+442079460204"]
    hank = ids.users["hank@globex.example"]
    writes = [
        ("PUT", f"/api/v1/numbers/{acme_number}/user", {"user_id": hank}),
        ("DELETE", f"/api/v1/numbers/{acme_number}/user", None),
        ("PUT", f"/api/v1/numbers/{acme_number}/display-name", {"first": "Mine", "second": ""}),
        ("POST", f"/api/v1/numbers/{acme_number}/pin-reset", None),
        ("PUT", f"/api/v1/numbers/{acme_number}/handset", {"phone_id": "desk-os-5"}),
        ("PATCH", f"/api/v1/numbers/{acme_number}/features", {"dnd": True}),
    ]
    for method, url, body in writes:
        assert globex.write(method, url, body).status_code == 404, (method, url)
    # nor by putting Acme's user on Globex's own number
    globex_number = ids.numbers["+442079460502"]
    answer = globex.write("PUT", f"/api/v1/numbers/{globex_number}/user", {"user_id": ids.users[ALICE]})
    assert answer.status_code == 404


def test_r30_a_user_sees_only_their_own_number(signed_in, ids):
    alice = signed_in(ALICE)
    own, bobs = ids.numbers["+442079460201"], ids.numbers["+442079460202"]
    assert alice.get(f"/api/v1/numbers/{own}").status_code == 200
    assert alice.get(f"/api/v1/numbers/{bobs}").status_code == 404
    assert alice.write("PATCH", f"/api/v1/numbers/{bobs}/features", {"dnd": True}).status_code == 404
    assert [n["number"] for n in alice.get("/api/v1/me/numbers").json["numbers"]] == ["+442079460201"]
    # R30: not assignment nor handset login, even of their own number
    assert alice.write("DELETE", f"/api/v1/numbers/{own}/user").status_code == 403
    assert alice.write("DELETE", f"/api/v1/numbers/{own}/handset").status_code == 403


def test_r2_without_voice_services_the_telephony_page_says_so(signed_in):
    initech = signed_in(INITECH_ADMIN)
    page = initech.get("/telephony").get_data(as_text=True)
    assert "Initech does not have active voice services" in page
    assert 'id="numbers"' not in page
