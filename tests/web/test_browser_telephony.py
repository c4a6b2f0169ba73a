"""The Telephony page in a real browser (R7-R15), as the demo occupier admin."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from pbx.services import assignment
from pbx.services.actor import Actor
from pbx.store.db import transaction
from tests.web.conftest import ACME_ADMIN, apply_outbox, fail_outbox, sign_in_page
from tests.web.pages import TelephonyPage, assert_accessible, screenshot

pytestmark = pytest.mark.browser
OLD_STREET = "London - Old Street"


@pytest.fixture
def telephony(browser_page) -> TelephonyPage:
    sign_in_page(browser_page, ACME_ADMIN)
    page = TelephonyPage(browser_page).wait_for_rows()
    page.page.get_by_label("Site name").select_option(label=OLD_STREET)
    expect(page.row("+442079460201")).to_be_visible()
    page.mark_page()
    return page


def test_r7_site_selector_defaults_to_the_first_site_alphabetically_and_switches(browser_page):
    sign_in_page(browser_page, ACME_ADMIN)
    page = TelephonyPage(browser_page).wait_for_rows()
    site = browser_page.get_by_label("Site name")
    expect(site.locator("option:checked")).to_have_text("London - King's Cross")
    assert page.visible_numbers() == ["+442079460300", "+442079460301", "+442079460302", "+442079460303"]
    page.mark_page()
    site.select_option(label=OLD_STREET)
    expect(page.row("+442079460201")).to_be_visible()
    assert page.visible_numbers() == [
        "+442079460100",
        "+442079460201",
        "+442079460202",
        "+442079460203",
        "+442079460204",
        "+442079460205",
    ]
    assert "site=" in browser_page.url
    page.assert_not_reloaded()


def test_r8_search_filters_as_you_type_on_number_and_assigned_to(telephony):
    search = telephony.page.get_by_label("Search")
    search.press_sequentially("ali")
    assert telephony.visible_numbers() == ["+442079460201"]
    search.fill("")
    search.press_sequentially("0203")
    assert telephony.visible_numbers() == ["+442079460203"]
    search.fill("meeting room")
    assert telephony.visible_numbers() == ["+442079460203"]
    search.fill("nobody at all")
    expect(telephony.page.get_by_text("No phone numbers match.")).to_be_visible()
    search.fill("")
    assert len(telephony.visible_numbers()) == 6
    telephony.assert_not_reloaded()


def test_r8_the_pages_filter_agrees_with_the_services_search(telephony, ids):
    site = ids.sites[OLD_STREET]
    for query in ("ali", "0203", "+44 20", "442079460204", "ROOM", "main", "20 4", "Ext", "xyz", "100", " bob "):
        telephony.page.get_by_label("Search").fill(query)
        served = telephony.page.evaluate(
            """async ([site, query]) => (await (await fetch(
                  `/api/v1/sites/${site}/numbers?search=${encodeURIComponent(query)}`))
                .json()).numbers.map((row) => row.number)""",
            [site, query],
        )
        assert telephony.visible_numbers() == served, query


def test_r9_refresh_shows_changes_made_elsewhere(telephony, factory, ids):
    with transaction(factory) as session:
        assignment.set_display_name(session, Actor.system("elsewhere"), ids.numbers["+442079460204"], "Quiet", "Room")
    expect(telephony.row("+442079460204")).to_contain_text("Unassigned")
    telephony.page.get_by_role("button", name="Refresh").click()
    expect(telephony.row("+442079460204")).to_contain_text("Quiet Room")
    telephony.assert_not_reloaded()


def test_r10_columns_show_assigned_to_status_and_logged_in(telephony, ids):
    main, alice = telephony.row("+442079460100"), telephony.row("+442079460201")
    expect(main.locator("td.assigned")).to_have_text("Main Number")
    expect(alice.locator("td.assigned a")).to_have_text("Alice Archer")
    expect(alice.locator("td.assigned a")).to_have_attribute("href", f"/users/{ids.users['alice@acme.example']}")
    expect(telephony.row("+442079460203").locator("td.assigned")).to_have_text("Meeting Room 1")
    expect(telephony.row("+442079460203").locator("td.assigned a")).to_have_count(0)
    expect(telephony.row("+442079460204").locator("td.assigned")).to_have_text("Unassigned")
    expect(alice.locator("td.status")).to_have_text("Active")
    expect(telephony.row("+442079460205").locator("td.status")).to_have_text("Reserved")
    expect(alice.locator("td.logged-in")).to_contain_text("Logged in")
    expect(telephony.row("+442079460204").locator("td.logged-in")).to_have_text("N/A")
    expect(alice).to_contain_text("184629")  # the default PIN


def test_r11_actions_only_for_active_non_main_numbers_shown_on_hover_and_focus(telephony):
    expect(telephony.row("+442079460100").get_by_role("button")).to_have_count(0)  # main (R5)
    expect(telephony.row("+442079460205").get_by_role("button")).to_have_count(0)  # reserved (R6)
    actions = telephony.row("+442079460204").locator(".row-actions")
    telephony.row("+442079460204").hover()
    expect(actions).to_have_css("opacity", "1")
    expect(actions.get_by_role("button")).to_have_count(5)
    expect(actions.get_by_role("link", name="Phone number features")).to_have_count(1)
    telephony.page.mouse.move(5, 5)
    expect(actions).to_have_css("opacity", "0")
    # Keyboard only: Tab from the search box reaches the first row's actions, Enter opens the pop-up.
    telephony.page.get_by_label("Search").focus()
    for _ in range(8):
        telephony.page.keyboard.press("Tab")
        if telephony.page.evaluate("document.activeElement.dataset.action === 'details'"):
            break
    first = telephony.row("+442079460201")
    expect(first.get_by_role("button", name="Phone number details")).to_be_focused()
    expect(first.locator(".row-actions")).to_have_css("opacity", "1")
    telephony.page.keyboard.press("Enter")
    expect(telephony.dialog).to_be_visible()
    telephony.page.keyboard.press("Escape")
    expect(first.get_by_role("button", name="Phone number details")).to_be_focused()


def test_r11_details_pop_up_shows_the_whole_configuration(telephony):
    telephony.action("+442079460201", "Phone number details").click()
    dialog = telephony.dialog
    expect(dialog.get_by_role("heading", name="Phone number details")).to_be_visible()
    for text in (
        "184629",
        "Alice Archer",
        "Logged in to desk-os-1",
        "Call waiting",
        "Do Not Disturb",
        "Off (the number itself)",
        "Default PIN (to be replaced at first use)",
        "London - Old Street",
    ):
        expect(dialog).to_contain_text(text)
    screenshot(dialog, "details-popup.png")
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()


def test_r12_assign_then_unassign_pending_then_active_without_reload(telephony, factory):
    telephony.action("+442079460204", "Assign user").click()
    users = telephony.dialog.get_by_label("User")
    expect(users.locator("option", has_text="Alice Archer")).to_be_disabled()
    expect(users.locator("option", has_text="Dave Dawson")).to_be_enabled()
    telephony.dialog.get_by_label("Search people").fill("daw")  # a big occupier: the server finds them
    expect(users.locator("option")).to_have_text(["Pick a user", "Dave Dawson (dave@acme.example)"])
    users.select_option(label="Dave Dawson (dave@acme.example)")
    screenshot(telephony.page, "assign-popup.png")
    telephony.dialog.get_by_role("button", name="Assign").click()
    row = telephony.row("+442079460204")
    expect(row.locator("td.assigned a")).to_have_text("Dave Dawson")
    expect(row.locator("td.status")).to_have_text("Pending")
    apply_outbox(factory)
    expect(row.locator("td.status")).to_have_text("Active")
    telephony.action("+442079460204", "Unassign user").click()
    expect(telephony.dialog).to_contain_text("Unassign +442079460204 from Dave Dawson?")
    telephony.dialog.get_by_role("button", name="Unassign").click()
    expect(row.locator("td.assigned")).to_have_text("Unassigned")
    apply_outbox(factory)
    expect(row.locator("td.status")).to_have_text("Active")
    telephony.assert_not_reloaded()


def test_r13_display_name_overrides_the_user_name_but_keeps_the_link(telephony, factory):
    telephony.action("+442079460202", "Display name").click()
    telephony.dialog.get_by_label("First part").fill("Sales")
    telephony.dialog.get_by_label("Second part").fill("Desk")
    telephony.dialog.get_by_role("button", name="OK").click()
    assigned = telephony.row("+442079460202").locator("td.assigned a")
    expect(assigned).to_have_text("Sales Desk")  # still the link to Bob's user page
    apply_outbox(factory)
    expect(telephony.row("+442079460202").locator("td.status")).to_have_text("Active")


def test_r13_a_display_name_is_shown_as_text_never_as_markup(telephony):
    telephony.action("+442079460204", "Display name").click()
    telephony.dialog.get_by_label("First part").fill('<img src=x onerror="window.owned=1">')
    telephony.dialog.get_by_role("button", name="OK").click()
    expect(telephony.row("+442079460204").locator("td.assigned")).to_have_text('<img src=x onerror="window.owned=1">')
    assert telephony.page.evaluate("window.owned === undefined")


def test_r14_reset_pin_confirms_with_a_message(telephony):
    telephony.action("+442079460202", "Reset PIN").click()
    expect(telephony.dialog).to_contain_text("to its default PIN 590318")
    telephony.dialog.get_by_role("button", name="Reset PIN").click()
    expect(telephony.dialog).to_contain_text("is reset to its default PIN 590318 and unlocked")
    telephony.dialog.get_by_role("button", name="OK").click()
    expect(telephony.dialog).to_be_hidden()


def test_r15_handset_login_refused_when_taken_then_logs_in_after_a_short_delay_and_out(telephony, factory):
    telephony.action("+442079460204", "Login a new handset").click()
    phone_id = telephony.dialog.get_by_label("Phone ID")
    expect(phone_id.locator("option", has_text="desk-os-1 (in use by ext. 201)")).to_have_count(1)
    phone_id.select_option("desk-os-1")
    telephony.dialog.get_by_role("button", name="Login").click()
    expect(telephony.dialog.get_by_role("alert")).to_contain_text("already logged in to desk-os-1")
    phone_id.select_option("desk-os-5")
    telephony.dialog.get_by_role("button", name="Login").click()
    expect(telephony.dialog).to_contain_text("Logging in to desk-os-5…")
    row = telephony.row("+442079460204")
    expect(row.locator("td.status")).to_have_text("Pending")
    apply_outbox(factory)
    expect(telephony.dialog).to_contain_text("Login complete: calls to +442079460204 now ring handset desk-os-5.")
    telephony.dialog.get_by_role("button", name="OK").click()
    expect(row.locator("td.logged-in")).to_contain_text("desk-os-5")
    expect(row.locator("td.status")).to_have_text("Active")
    telephony.action("+442079460204", "Log out from handset").click()
    telephony.dialog.get_by_role("button", name="Log out").click()
    expect(telephony.dialog).to_contain_text("Logging out of desk-os-5…")
    apply_outbox(factory)
    expect(telephony.dialog).to_contain_text("Logged out: desk-os-5 no longer rings for +442079460204.")
    telephony.dialog.get_by_role("button", name="OK").click()
    expect(row.locator("td.logged-in")).to_have_text("N/A")
    telephony.assert_not_reloaded()


def test_r15_a_login_asterisk_could_not_apply_says_why_and_stays_pending(telephony, factory):
    telephony.action("+442079460204", "Login a new handset").click()
    telephony.dialog.get_by_label("Phone ID").select_option("desk-os-6")
    telephony.dialog.get_by_role("button", name="Login").click()
    expect(telephony.dialog).to_contain_text("Logging in to desk-os-6…")
    fail_outbox(factory, "Asterisk is not answering")
    expect(telephony.dialog).to_contain_text("Not done yet: Asterisk is not answering")
    telephony.dialog.get_by_role("button", name="OK").click()
    row = telephony.row("+442079460204")
    expect(row.locator("td.status")).to_contain_text("Pending")
    expect(row.locator("td.status")).to_contain_text("Not applied yet: Asterisk is not answering")


def test_telephony_page_screenshot(telephony):
    telephony.row("+442079460204").hover()
    expect(telephony.row("+442079460204").locator(".row-actions")).to_have_css("opacity", "1")
    screenshot(telephony.page, "telephony.png")


def test_r13_a_display_name_too_long_is_refused_not_cut(telephony, factory, ids):
    telephony.action("+442079460204", "Edit display name").click()
    telephony.dialog.get_by_label("First part").fill("x" * 200)
    telephony.dialog.get_by_role("button", name="OK").click()
    expect(telephony.dialog.get_by_role("alert")).to_contain_text("must be at most 40 characters")
    expect(telephony.dialog.get_by_label("First part")).to_have_value("x" * 200)  # what was typed stays
    telephony.dialog.get_by_role("button", name="Cancel").click()
    expect(telephony.row("+442079460204").locator("td.assigned")).to_have_text("Unassigned")


def test_r29_unassigning_on_a_users_page_removes_the_row(browser_page, ids):
    sign_in_page(browser_page, ACME_ADMIN)
    browser_page.goto(f"/users/{ids.users['bob@acme.example']}")
    page = TelephonyPage(browser_page).wait_for_rows()
    page.action("+442079460202", "Unassign user").click()
    page.dialog.get_by_role("button", name="Unassign").click()
    expect(page.row("+442079460202")).to_have_count(0)
    expect(browser_page.get_by_text("Bob Baker has no phone number now.")).to_be_visible()
    expect(browser_page.locator("#numbers-empty")).to_be_focused()


def test_the_table_is_one_tab_stop_and_arrow_keys_move_between_rows(telephony):
    page = telephony.page
    page.get_by_role("button", name="Refresh").focus()
    page.keyboard.press("Tab")
    expect(telephony.row("+442079460201")).to_be_focused()  # the first row with actions holds the tab stop
    page.keyboard.press("ArrowDown")
    expect(telephony.row("+442079460202")).to_be_focused()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    expect(telephony.row("+442079460100")).to_be_focused()
    page.keyboard.press("End")
    expect(telephony.row("+442079460205")).to_be_focused()
    stops = page.evaluate("[...document.querySelectorAll('#numbers [tabindex]')].filter((e) => e.tabIndex >= 0).length")
    assert stops == 1  # one row (without actions: Reserved) is the table's only tab stop
    page.keyboard.press("Home")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")
    expect(telephony.row("+442079460201").get_by_role("link", name="Alice Archer")).to_be_focused()
    page.keyboard.press("Tab")
    expect(telephony.row("+442079460201").get_by_role("button", name="Phone number details")).to_be_focused()
    assert_accessible(page, "telephony, keyboard in the table")
