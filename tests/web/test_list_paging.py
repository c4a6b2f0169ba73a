"""R8 in the server: a number found however people write it, pages of a long list, compressed answers."""

from __future__ import annotations

import gzip

import pytest

from tests.web.conftest import ACME_ADMIN

OLD_STREET = "London - Old Street"


@pytest.fixture
def admin(signed_in):
    return signed_in(ACME_ADMIN)


def found(admin, site_id: int, query: str, **params) -> list[str]:
    answer = admin.get(f"/api/v1/sites/{site_id}/numbers", query_string={"q": query, **params})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return [row["number"] for row in answer.json["numbers"]]


@pytest.mark.parametrize(
    "query",
    ["020 7946 0201", "+44 (0)20 7946 0201", "442079460201", "+442079460201", "(020) 7946-0201", "7946 0201", "201"],
)
def test_r8_a_number_is_found_in_any_common_format(admin, ids, query):
    assert found(admin, ids.sites[OLD_STREET], query) == ["+442079460201"]


def test_r8_search_by_extension_by_user_name_and_by_assigned_to_words(admin, ids):
    site = ids.sites[OLD_STREET]
    assert found(admin, site, "203") == ["+442079460203"]
    assert found(admin, site, "ALICE") == ["+442079460201"]
    assert found(admin, site, "meeting room") == ["+442079460203"]
    assert found(admin, site, "main number") == ["+442079460100"]
    assert "+442079460204" in found(admin, site, "unassigned")
    assert found(admin, site, "100%_") == []  # LIKE wildcards are text, not patterns


def test_r8_rows_come_a_page_at_a_time_with_the_total(admin, ids):
    site = ids.sites[OLD_STREET]
    first = admin.get(f"/api/v1/sites/{site}/numbers?per_page=2").json
    second = admin.get(f"/api/v1/sites/{site}/numbers?per_page=2&page=2").json
    assert (first["total"], first["pages"], first["page"]) == (6, 3, 1)
    assert [r["number"] for r in first["numbers"]] == ["+442079460100", "+442079460201"]  # main number first
    assert [r["number"] for r in second["numbers"]] == ["+442079460202", "+442079460203"]
    assert first["numbers"][1]["national"] == "020 7946 0201"


@pytest.mark.parametrize("params", ["page=0", "page=x", "per_page=1000", "per_page=-1"])
def test_a_page_out_of_range_is_refused_by_name(admin, ids, params):
    answer = admin.get(f"/api/v1/sites/{ids.sites[OLD_STREET]}/numbers?{params}")
    assert answer.status_code == 400
    assert answer.json["field"] in {"page", "per_page"}


def test_answers_over_a_kilobyte_are_compressed(admin, ids):
    answer = admin.get(f"/api/v1/sites/{ids.sites[OLD_STREET]}/numbers", headers={"Accept-Encoding": "gzip"})
    assert answer.headers.get("Content-Encoding") == "gzip"
    assert gzip.decompress(answer.data).startswith(b"{")
    assert answer.headers.get("Vary", "").lower().find("accept-encoding") >= 0
    plain = admin.get(f"/api/v1/sites/{ids.sites[OLD_STREET]}/numbers")
    assert "Content-Encoding" not in plain.headers


def test_favicon_is_served(app):
    answer = app.test_client().get("/favicon.ico")
    assert answer.status_code == 200 and answer.mimetype == "image/svg+xml"


def test_r29_the_users_page_is_searched_and_paged_in_the_server(admin):
    found = admin.get("/users?q=archer").get_data(as_text=True)
    assert "Alice Archer" in found and "Bob Baker" not in found and "1 person matches" in found
    by_number = admin.get("/users?q=0202").get_data(as_text=True)
    assert "Bob Baker" in by_number and "Alice Archer" not in by_number
    assert "No one matches." in admin.get("/users?q=nobody").get_data(as_text=True)
    assert admin.get("/users?page=x").status_code == 200  # a mistyped page shows the first


def test_r12_the_assign_pop_up_finds_users_in_the_server(admin, ids):
    url = f"/api/v1/numbers/{ids.numbers['+442079460204']}/users"
    everyone = admin.get(url).json
    assert len(everyone["users"]) >= 5 and everyone["more"] is False
    found = admin.get(url, query_string={"q": "dawson"}).json["users"]
    assert [u["name"] for u in found] == ["Dave Dawson"] and found[0]["selectable"]
    taken = admin.get(url, query_string={"q": "alice"}).json["users"]
    assert [u["selectable"] for u in taken] == [False]  # R12: listed, not selectable


def test_r15_the_login_pop_up_finds_phone_ids_in_the_server(admin, ids):
    url = f"/api/v1/numbers/{ids.numbers['+442079460204']}/handsets"
    assert admin.get(url).json["more"] is False
    found = admin.get(url, query_string={"q": "OS-5"}).json["handsets"]
    assert [h["phone_id"] for h in found] == ["desk-os-5"]


def test_pages_with_a_csrf_token_are_never_compressed(admin):
    """BREACH: a compressed page holding a secret beside reflected text leaks the secret by its size."""
    page = admin.get("/telephony?q=abc", headers={"Accept-Encoding": "gzip"})
    assert page.status_code == 200 and "csrf" in page.get_data(as_text=True).lower()
    assert "Content-Encoding" not in page.headers
