"""Walls and locks in a real browser: other occupiers (R3), CSRF, sign-in rate limit, R2, the operator (R31)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.web.conftest import ACME_ADMIN, GLOBEX_ADMIN, INITECH_ADMIN, OPERATOR, sign_in_page
from tests.web.pages import TelephonyPage, api_status

pytestmark = pytest.mark.browser


def test_r3_another_occupiers_admin_cannot_reach_acmes_numbers_by_url_or_api(browser_page, ids):
    page = browser_page
    sign_in_page(page, GLOBEX_ADMIN)
    telephony = TelephonyPage(page).wait_for_rows()
    expect(page.locator("#site-name")).to_have_text("London - Old Street")  # R7: one site, its name alone
    assert all(n.startswith("+44207946050") for n in telephony.visible_numbers())
    acme = ids.numbers["+442079460201"]
    page.goto(f"/numbers/{acme}/features")
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("+442079460201")
    assert api_status(page, "GET", f"/api/v1/numbers/{acme}") == 404
    assert api_status(page, "PATCH", f"/api/v1/numbers/{acme}/features", body={"dnd": True}) == 404
    assert api_status(page, "GET", f"/api/v1/sites/{ids.sites['London - King' + chr(39) + 's Cross']}/numbers") == 404


def test_json_write_without_the_csrf_header_is_refused(browser_page, ids):
    sign_in_page(browser_page, ACME_ADMIN)
    TelephonyPage(browser_page).wait_for_rows()
    number = ids.numbers["+442079460204"]
    body = {"first": "No", "second": "Token"}
    assert api_status(browser_page, "PUT", f"/api/v1/numbers/{number}/display-name", with_csrf=False, body=body) == 400
    assert api_status(browser_page, "PUT", f"/api/v1/numbers/{number}/display-name", body=body) == 200


def test_wrong_passwords_are_rate_limited(browser_page):
    for _ in range(5):
        sign_in_page(browser_page, ACME_ADMIN, "wrong-password")
        expect(browser_page.locator("#sign-in-error")).to_have_text("The e-mail address or password is not right")
    sign_in_page(browser_page, ACME_ADMIN)
    expect(browser_page.locator("#sign-in-error")).to_contain_text(
        "Too many failed sign-ins for this account. Try again in 5 minutes."
    )
    expect(browser_page).to_have_url("/sign-in")


def test_sign_out_ends_the_session(browser_page):
    sign_in_page(browser_page, ACME_ADMIN)
    browser_page.get_by_role("button", name="Sign out").click()
    expect(browser_page.get_by_text("You are signed out.")).to_be_visible()
    browser_page.goto("/telephony")
    expect(browser_page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_r2_without_voice_services_there_is_nothing_to_change(browser_page):
    sign_in_page(browser_page, INITECH_ADMIN)
    expect(browser_page.locator("#no-voice-services")).to_contain_text("Initech does not have active voice services")
    expect(browser_page.locator("#numbers")).to_have_count(0)


def test_r31_operator_allocates_activates_sets_main_registers_handsets_and_switches_voice_services(browser_page):
    page = browser_page
    sign_in_page(page, OPERATOR)
    expect(page.get_by_role("heading", name="Operator console")).to_be_visible()
    form = page.locator("#allocate-form")
    form.get_by_label("Occupier").select_option(label="Acme Ltd")
    form.get_by_label("Site").select_option(label="London - Old Street")
    form.get_by_label("Phone number").fill("+442079460206")
    form.get_by_label("Extension").fill("206")
    form.get_by_role("button", name="Allocate").click()
    expect(page.get_by_text("+442079460206 is allocated to Acme Ltd at London - Old Street (Reserved)")).to_be_visible()
    row = page.locator("#operator-numbers tr[data-number='+442079460206']")
    expect(row).to_contain_text("Reserved")
    row.get_by_role("button", name="Activate").click()
    expect(page.get_by_text("+442079460206 is activated")).to_be_visible()
    expect(row).to_contain_text("Pending")

    form.get_by_label("Phone number").fill("+442079460206")  # already allocated: refused, what was typed stays
    form.get_by_label("Extension").fill("207")
    form.get_by_role("button", name="Allocate").click()
    expect(page.locator("#refusal")).to_contain_text("+442079460206 is already allocated")
    expect(form.get_by_label("Extension")).to_have_value("207")

    main = page.locator("#operator-numbers tr[data-number='+442079460300']")
    main.get_by_label("Destination of +442079460300").fill("302")
    main.get_by_role("button", name="Update main").click()
    expect(page.get_by_text("+442079460300 is the main number at London - King's Cross")).to_be_visible()

    handsets = page.locator("#handset-form")
    handsets.get_by_label("Site").select_option(label="London - Old Street")
    handsets.get_by_label("Phone ID").fill("desk-os-7")
    handsets.get_by_role("button", name="Register handset").click()
    expect(page.get_by_text("Handset desk-os-7 is registered at London - Old Street")).to_be_visible()

    initech = page.locator("#occupiers tr", has_text="Initech")
    initech.get_by_role("button", name="Switch voice services on").click()
    expect(page.get_by_text("Voice services of Initech are on")).to_be_visible()
    expect(page.locator("#occupiers tr", has_text="Initech")).to_contain_text("On")


def test_r31_allocate_form_shows_each_wrong_field_beside_it(browser_page):
    page = browser_page
    page.set_default_timeout(30_000)
    sign_in_page(page, OPERATOR)
    form = page.locator("#allocate-form")
    form.get_by_label("Phone number").fill("12")
    form.get_by_label("Extension").fill("2a")
    form.get_by_label("Default PIN").fill("12")
    form.get_by_role("button", name="Allocate").click()
    expect(form.get_by_label("Phone number")).to_have_accessible_description(
        "Phone number: '12' is not a phone number in international format, e.g. +442079460000"
    )
    expect(form.get_by_label("Extension")).to_have_accessible_description(
        "Extension: '2a' is not an extension: use 2 to 8 digits"
    )
    expect(form.get_by_label("Default PIN")).to_have_accessible_description("Default PIN: a PIN is 4 to 8 digits")
    expect(form.locator(".field-error")).to_have_count(3)
    for message in form.locator(".field-error").all():
        expect(message).to_be_visible()
    expect(form.get_by_label("Extension")).to_have_value("2a")
    expect(page.locator("#refusal")).to_have_count(0)
