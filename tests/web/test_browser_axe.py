"""axe-core finds no violation on any page of the admin UI, nor on its pop-ups (issue 12)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.web.conftest import ACME_ADMIN, ALICE, OPERATOR, sign_in_page
from tests.web.pages import TelephonyPage, assert_accessible

pytestmark = pytest.mark.browser


def test_every_page_of_an_occupier_admin_passes_axe(browser_page, ids):
    page = browser_page
    page.goto("/sign-in")
    assert_accessible(page, "sign-in")
    sign_in_page(page, ACME_ADMIN)
    telephony = TelephonyPage(page).wait_for_rows()
    assert_accessible(page, "telephony")
    page.get_by_label("Search").fill("nobody at all")
    telephony.settled()
    assert_accessible(page, "telephony, nothing matches")
    page.get_by_label("Search").fill("")
    telephony.settled()
    for action in ("Assign user", "Login a new handset", "Edit display name", "Reset PIN"):
        telephony.action("+442079460302", action).click()
        expect(telephony.dialog).to_be_visible()
        assert_accessible(page, f"telephony, {action} pop-up")
        page.keyboard.press("Escape")
    page.goto(f"/numbers/{ids.numbers['+442079460204']}/features")
    assert_accessible(page, "features")
    page.get_by_role("button", name="Save changes").click()
    page.goto("/users")
    assert_accessible(page, "users")
    page.goto(f"/users/{ids.users['alice@acme.example']}")
    TelephonyPage(page).wait_for_rows()
    assert_accessible(page, "a user's page")


def test_my_profile_and_the_operator_console_pass_axe(browser_page):
    sign_in_page(browser_page, ALICE)
    TelephonyPage(browser_page).wait_for_rows()
    assert_accessible(browser_page, "my profile")
    browser_page.get_by_role("button", name="Sign out").click()
    sign_in_page(browser_page, OPERATOR)
    expect(browser_page.get_by_role("heading", name="Operator console")).to_be_visible()
    assert_accessible(browser_page, "operator console")
    browser_page.locator("#alloc-e164").fill("12")
    browser_page.locator("#alloc-ext").fill("299")
    browser_page.get_by_role("button", name="Allocate").click()
    expect(browser_page.locator("#refusal, .field-error").first).to_be_visible()
    assert_accessible(browser_page, "operator console, a refused form")
