"""The operator console as a working tool (R31, issue 12): searched and paged lists, confirmations
that say what else changes, the authorization code, the allocate form's sites."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from pbx.services import assignment
from pbx.services.actor import Actor
from pbx.services.features import show_features
from pbx.store.db import transaction
from tests.web.conftest import OPERATOR, sign_in_page
from tests.web.pages import assert_accessible

pytestmark = pytest.mark.browser


@pytest.fixture
def console(browser_page, ids):
    sign_in_page(browser_page, OPERATOR)
    browser_page.goto(f"/operator?occupier={ids.occupiers['Acme Ltd']}")
    expect(browser_page.get_by_role("heading", name="Numbers of Acme Ltd")).to_be_visible()
    return browser_page


def number_row(page, e164: str):
    return page.locator(f"#operator-numbers tr[data-number='{e164}']")


def test_r5_make_main_says_who_loses_the_number_and_which_main_number_steps_down(console, factory, ids):
    with transaction(factory) as session:
        assignment.assign_user(session, Actor.system(), ids.numbers["+442079460204"], ids.users["dave@acme.example"])
    console.reload()
    page = console
    row = number_row(page, "+442079460204")
    row.get_by_role("button", name="Make main").click()
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Dave Dawson loses this number")
    expect(dialog).to_contain_text("+442079460100 steps down as the main number")
    assert_accessible(page, "make-main confirmation")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(number_row(page, "+442079460100")).to_contain_text("Main Number")  # nothing changed
    row.get_by_role("button", name="Make main").click()
    page.evaluate("window.notReloaded = true")
    dialog.get_by_role("button", name="Make main number").click()
    expect(page.get_by_text("+442079460204 is the main number at London - Old Street")).to_be_visible()
    expect(number_row(page, "+442079460100")).not_to_contain_text("Main Number")
    assert page.evaluate("window.notReloaded === true")  # the console was updated in place


def test_r5_a_reserved_number_cannot_become_the_main_number(console, signed_in, ids):
    expect(number_row(console, "+442079460205").get_by_role("button", name="Make main")).to_have_count(0)
    expect(number_row(console, "+442079460205")).to_contain_text("Activate it first")
    operator = signed_in(OPERATOR)
    refused = operator.post_form(f"/operator/numbers/{ids.numbers['+442079460205']}/main", {"destination": ""})
    assert refused.status_code == 400
    assert "is Reserved: activate it before making it the main number" in refused.get_data(as_text=True)


def test_r2_voice_services_off_says_how_many_numbers_stop_working(console):
    page = console
    acme = page.locator("#occupiers tr", has_text="Acme Ltd")
    acme.get_by_role("button", name="Switch voice services off").click()
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_contain_text("Switch voice services off for Acme Ltd? 8 phone numbers stop working")
    dialog.get_by_role("button", name="Cancel").click()
    expect(page.locator("#occupiers tr", has_text="Acme Ltd")).to_contain_text("On")
    acme.get_by_role("button", name="Switch voice services off").click()
    dialog.get_by_role("button", name="Switch voice services off").click()
    expect(page.get_by_text("Voice services of Acme Ltd are off")).to_be_visible()


def test_r22_the_operator_sets_and_clears_an_authorization_code(console, factory, ids):
    page = console
    row = number_row(page, "+442079460204")
    row.get_by_label("Authorization code of +442079460204").fill("4711")
    row.get_by_role("button", name="Set code").click()
    expect(page.get_by_text("The authorization code of +442079460204 is set")).to_be_visible()
    with transaction(factory) as session:
        assert show_features(session, Actor.system(), ids.numbers["+442079460204"])["authorization_code"]
    number_row(page, "+442079460204").get_by_role("button", name="Clear code").click()
    expect(page.get_by_text("The authorization code of +442079460204 is cleared")).to_be_visible()
    with transaction(factory) as session:
        assert not show_features(session, Actor.system(), ids.numbers["+442079460204"])["authorization_code"]
    row = number_row(page, "+442079460204")
    row.get_by_label("Authorization code of +442079460204").fill("12ab")
    row.get_by_role("button", name="Set code").click()
    expect(page.locator("#refusal")).to_contain_text("Authorization code")


def test_r31_each_list_is_searched_and_the_allocate_form_offers_the_occupiers_sites(console):
    page = console
    page.get_by_label("Search numbers").fill("020 7946 0203")
    page.get_by_label("Search numbers").press("Enter")
    expect(page.locator("#operator-numbers tbody tr")).to_have_count(1)
    expect(number_row(page, "+442079460203")).to_contain_text("020 7946 0203")
    expect(page.locator("#n-count")).to_contain_text("1 number matches")
    page.get_by_label("Search handsets").fill("kx")
    page.get_by_label("Search handsets").press("Enter")
    expect(page.locator("#handsets tbody tr")).to_have_count(3)
    expect(page.locator("#operator-numbers tbody tr")).to_have_count(1)  # the numbers' search is kept
    page.get_by_label("Search occupiers").fill("glob")
    page.get_by_label("Search occupiers").press("Enter")
    expect(page.locator("#occupiers tbody tr")).to_have_count(1)
    assert_accessible(page, "console with searches")
    form = page.locator("#allocate-form")
    form.get_by_label("Occupier").select_option(label="Initech")
    assert form.locator("#alloc-site option:not([disabled])").all_inner_texts() == ["Manchester - Spinningfields"]
    form.get_by_label("Occupier").select_option(label="Acme Ltd")
    assert form.locator("#alloc-site option:not([disabled])").all_inner_texts() == [
        "London - King's Cross",
        "London - Old Street",
    ]
