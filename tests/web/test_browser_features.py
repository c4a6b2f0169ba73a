"""Phone number features in a real browser (R20-R28), from Telephony, user management (R29) and My profile (R30)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from pbx.services.actor import Actor
from pbx.services.features import show_features, update_features
from pbx.store.db import transaction
from tests.web.conftest import ACME_ADMIN, ALICE, apply_outbox, sign_in_page
from tests.web.pages import TelephonyPage, screenshot

pytestmark = pytest.mark.browser
NUMBER = "+442079460204"


@pytest.fixture
def features_page(browser_page, ids):
    sign_in_page(browser_page, ACME_ADMIN)
    browser_page.goto(f"/numbers/{ids.numbers[NUMBER]}/features")
    return browser_page


def stored(factory, ids, e164=NUMBER):
    with transaction(factory) as session:
        return show_features(session, Actor.system(), ids.numbers[e164])


def test_r21_r24_exclusive_options_are_disabled_as_the_user_clicks(features_page):
    page = features_page
    busy, waiting = page.get_by_label("Busy", exact=True), page.get_by_label("Call waiting")
    expect(page.get_by_text("Default PIN")).to_be_visible()  # R28: phone details on the page
    expect(waiting).to_be_checked()
    expect(busy).to_be_disabled()  # R21: call waiting is on
    waiting.uncheck()
    expect(busy).to_be_enabled()
    busy.check()
    expect(waiting).to_be_disabled()
    expect(page.locator("#forward_busy")).to_be_enabled()  # ticking an option enables its target (R20)
    expect(page.locator("#forward_always")).to_be_disabled()
    cli = page.get_by_label("Number to be displayed")
    expect(cli).to_be_visible()
    page.get_by_label("Hide caller ID").check()  # R24: overrides CLI
    expect(cli).to_be_hidden()
    expect(page.get_by_text("CLI is hidden because Hide caller ID is on")).to_be_visible()
    page.get_by_label("Hide caller ID").uncheck()
    expect(cli).to_be_visible()


def test_r21_refused_combination_shows_the_message_and_keeps_what_was_typed(features_page, factory, ids):
    page = features_page
    page.get_by_label("Always").check()
    page.locator("#forward_always").fill("+447700900111")
    page.get_by_label("Do Not Disturb").check()
    # A stale page or a hand-made request: the server refuses what the script would not allow.
    page.evaluate("document.getElementById('forward_busy_on').disabled = false")
    page.get_by_label("Busy", exact=True).check()
    page.locator("#forward_busy").fill("+447700900123")
    page.get_by_role("button", name="Save changes").click()
    refusal = page.get_by_role("alert")
    expect(refusal).to_contain_text("Not saved. Forward on busy and call waiting exclude each other")
    expect(page.locator("#forward_always")).to_have_value("+447700900111")
    expect(page.locator("#forward_busy")).to_have_value("+447700900123")
    expect(page.get_by_label("Do Not Disturb")).to_be_checked()
    expect(page.get_by_label("Call waiting")).to_be_checked()
    screenshot(page, "features-refused.png")
    assert stored(factory, ids)["forward_always"] == "" and stored(factory, ids)["dnd"] is False  # nothing saved


def test_r22_forwarding_is_disabled_while_the_authorization_code_is_on(browser_page, factory, ids):
    with transaction(factory) as session:
        update_features(session, Actor.system("operator"), ids.numbers[NUMBER], {"authorization_code": "4711"})
    sign_in_page(browser_page, ACME_ADMIN)
    browser_page.goto(f"/numbers/{ids.numbers[NUMBER]}/features")
    expect(
        browser_page.get_by_text("Call forwarding is disabled: this number has an Authorization code")
    ).to_be_visible()
    expect(browser_page.get_by_label("Always")).to_be_disabled()
    expect(browser_page.get_by_label("No answer")).to_be_disabled()
    expect(browser_page.get_by_label("Do Not Disturb")).to_be_enabled()


def test_r28_features_saved_with_one_button_pending_then_active(features_page, factory, ids):
    page = features_page
    screenshot(page, "features.png")
    page.get_by_label("No answer").check()
    page.locator("#forward_no_answer").fill("202")
    page.get_by_label("After (seconds)").fill("25")
    page.get_by_label("Voicemail to email").check()
    page.get_by_label("Email address").fill("desk204@acme.example")
    page.get_by_label("CLI", exact=True).check()
    cli = page.get_by_label("Number to be displayed")
    expect(page.locator("#cli-choices option")).to_have_text(
        [
            "020 7946 0100 · Main number",
            "020 7946 0201 · ext. 201",
            "020 7946 0202 · ext. 202",
            "020 7946 0203 · ext. 203",
        ]
    )  # R27: active numbers at the site, this one aside, suggested in a searchable field
    cli.press_sequentially("0202")
    expect(page.locator("#cli-choices option")).to_have_count(1)  # the server searched
    expect(page.locator("#cli-choices option")).to_have_attribute("value", "+442079460202")
    cli.fill("+442079460100")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Features saved.")).to_be_visible()
    telephony = TelephonyPage(page).wait_for_rows()
    expect(telephony.row(NUMBER).locator("td.status")).to_have_text("Pending")
    telephony.mark_page()
    apply_outbox(factory)
    expect(telephony.row(NUMBER).locator("td.status")).to_have_text("Active")
    telephony.assert_not_reloaded()
    saved = stored(factory, ids)
    assert (saved["forward_no_answer"], saved["no_answer_seconds"], saved["voicemail_email"], saved["cli"]) == (
        "202",
        25,
        "desk204@acme.example",
        "+442079460100",
    )


def test_r29_user_management_reaches_the_users_number_and_comes_back(browser_page, factory):
    sign_in_page(browser_page, ACME_ADMIN)
    browser_page.get_by_role("link", name="Users").click()
    expect(browser_page.locator("#users")).to_contain_text("020 7946 0201")
    browser_page.get_by_role("link", name="Alice Archer").click()
    telephony = TelephonyPage(browser_page).wait_for_rows()
    assert telephony.visible_numbers() == ["+442079460201"]
    telephony.action("+442079460201", "Display name").click()  # the same pop-ups as on Telephony
    telephony.dialog.get_by_label("Second part").fill("Archer (Sales)")
    telephony.dialog.get_by_label("First part").fill("Alice")
    telephony.dialog.get_by_role("button", name="OK").click()
    expect(telephony.row("+442079460201").locator("td.assigned")).to_have_text("Alice Archer (Sales)")
    apply_outbox(factory)
    expect(telephony.row("+442079460201").locator("td.status")).to_have_text("Active")
    telephony.row("+442079460201").hover()
    telephony.row("+442079460201").get_by_role("link", name="Phone number features").click()
    expect(browser_page.get_by_role("link", name="Back to Alice Archer")).to_be_visible()
    browser_page.get_by_label("Do Not Disturb").check()
    browser_page.get_by_role("button", name="Save changes").click()
    expect(browser_page.get_by_role("heading", name="Alice Archer")).to_be_visible()
    expect(browser_page.get_by_text("Features saved.")).to_be_visible()


def test_r30_a_user_changes_their_own_features_in_my_profile(browser_page, factory, ids):
    sign_in_page(browser_page, ALICE)
    expect(browser_page.get_by_role("heading", name="My profile")).to_be_visible()
    expect(browser_page.get_by_role("link", name="Telephony")).to_have_count(0)
    mine = TelephonyPage(browser_page).wait_for_rows()
    assert mine.visible_numbers() == ["+442079460201"]
    mine.row("+442079460201").hover()
    expect(mine.row("+442079460201").get_by_role("button", name="Assign")).to_have_count(0)  # not hers to do
    expect(mine.row("+442079460201").get_by_role("button", name="Login a new handset")).to_have_count(0)
    browser_page.locator("#my-features").click()
    browser_page.get_by_label("Always").check()
    browser_page.locator("#forward_always").fill("+447700900555")
    browser_page.get_by_role("button", name="Save changes").click()
    expect(browser_page.get_by_text("Features saved.")).to_be_visible()
    mine = TelephonyPage(browser_page).wait_for_rows()
    expect(mine.row("+442079460201").locator("td.status")).to_have_text("Pending")
    mine.mark_page()
    apply_outbox(factory)
    expect(mine.row("+442079460201").locator("td.status")).to_have_text("Active")
    mine.assert_not_reloaded()
    assert stored(factory, ids, "+442079460201")["forward_always"] == "+447700900555"


def test_r28_every_wrong_field_is_shown_next_to_it_in_one_save_and_nothing_is_saved(features_page, factory, ids):
    page = features_page
    wait = {"timeout": 20_000}  # a busy machine
    before = stored(factory, ids)
    page.get_by_label("Always").check()
    page.locator("#forward_always").fill("abc")
    page.get_by_label("Call waiting").uncheck()  # R21: frees Busy
    page.get_by_label("Busy", exact=True).check()
    page.locator("#forward_busy").fill("12x")
    page.get_by_label("After (seconds)").fill("500")
    page.get_by_label("Voicemail to email").check()
    page.get_by_label("Email address").fill("not-an-email")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("alert")).to_contain_text("Not saved. Correct the fields marked below", **wait)
    wrong = {
        "forward_always": ("Forward always:", "abc"),
        "forward_busy": ("Forward on busy:", "12x"),
        "no_answer_seconds": ("No answer after (seconds): use 5 to 120 seconds", "500"),
        "voicemail_email": ("Voicemail to email:", "not-an-email"),
    }
    for field, (message, typed) in wrong.items():
        expect(page.locator(f"#{field}-error")).to_contain_text(message, **wait)  # next to its own field
        expect(page.locator(f"#{field}")).to_have_attribute("aria-describedby", f"{field}-error", **wait)
        expect(page.locator(f"#{field}")).to_have_value(typed, **wait)  # what was typed is kept
    expect(page.locator(".field-error")).to_have_count(4, **wait)
    expect(page.get_by_label("Call waiting")).not_to_be_checked(**wait)
    screenshot(page, "features-field-errors.png")
    assert stored(factory, ids) == before  # nothing saved


def test_r22_a_number_with_an_authorization_code_still_saves_its_other_features(browser_page, factory, ids):
    """Issue 12: the locked forwarding section (its seconds included) is not sent; Save must still work."""
    with transaction(factory) as session:
        update_features(session, Actor.system("operator"), ids.numbers[NUMBER], {"authorization_code": "4711"})
    sign_in_page(browser_page, ACME_ADMIN)
    browser_page.goto(f"/numbers/{ids.numbers[NUMBER]}/features")
    expect(browser_page.get_by_label("After (seconds)")).to_be_disabled()
    browser_page.get_by_label("Do Not Disturb").check()
    browser_page.get_by_role("button", name="Save changes").click()
    expect(browser_page.get_by_text("Features saved.")).to_be_visible()
    saved = stored(factory, ids)
    assert saved["dnd"] is True and saved["authorization_code"]  # the code is kept
