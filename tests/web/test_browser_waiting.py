"""No dead ends (issue 12, R4, R15, R46): with the controller or Asterisk away, a Pending change says why
within seconds and that it applies when the system is back; the row shows Pending until it is Active."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from pbx.asterisk.outbox import load_node
from pbx.store.db import transaction
from pbx.store.models import NodeState
from tests.web.conftest import ACME_ADMIN, NODE, apply_outbox, sign_in_page
from tests.web.pages import TelephonyPage, assert_accessible

pytestmark = pytest.mark.browser
OLD_STREET = "London - Old Street"
NUMBER = "+442079460204"


@pytest.fixture
def telephony(browser_page) -> TelephonyPage:
    sign_in_page(browser_page, ACME_ADMIN)
    page = TelephonyPage(browser_page).wait_for_rows()
    browser_page.get_by_label("Site name").select_option(label=OLD_STREET)
    expect(page.row(NUMBER)).to_be_visible()
    return page


def log_in(telephony: TelephonyPage, phone_id: str) -> None:
    telephony.action(NUMBER, "Login a new handset").click()
    telephony.dialog.get_by_label("Phone ID").select_option(phone_id)
    telephony.dialog.get_by_role("button", name="Login").click()
    expect(telephony.dialog).to_contain_text(f"Logging in to {phone_id}…")


def test_r46_with_the_controller_down_the_login_says_why_then_completes_when_it_is_back(telephony, factory):
    log_in(telephony, "desk-os-5")  # no agent has ever run: the controller is down
    dialog, row = telephony.dialog, telephony.row(NUMBER)
    expect(dialog).to_contain_text(
        "Not applied yet: the controller that applies changes to Asterisk is not running.", timeout=30_000
    )
    expect(dialog).to_contain_text("applies by itself when the system is back")
    expect(dialog.locator(".spinner")).to_be_hidden()  # it does not spin on
    expect(row.locator("td.status .badge")).to_have_text("Pending")
    expect(row.locator("td.status")).to_contain_text("the controller that applies changes to Asterisk is not running")
    expect(row.locator("td.logged-in")).to_contain_text("Pending")  # not "Logged in" before it is
    assert_accessible(telephony.page, "a login waiting for the controller")
    apply_outbox(factory)  # the controller is back and applies the change
    expect(dialog).to_contain_text("Login complete: calls to +442079460204 now ring handset desk-os-5.", timeout=30_000)
    dialog.get_by_role("button", name="OK").click()
    expect(row.locator("td.status")).to_have_text("Active")
    expect(row.locator("td.logged-in")).to_contain_text("Logged in")


def test_r46_with_asterisk_down_the_row_says_asterisk_cannot_be_reached(telephony, factory):
    with transaction(factory) as session:
        node = load_node(session, NODE)
        node.state = NodeState.DOWN
        node.last_error = "AMI connection refused"
    log_in(telephony, "desk-os-6")
    expect(telephony.dialog).to_contain_text(
        "Not applied yet: Asterisk cannot be reached (AMI connection refused).", timeout=30_000
    )
    telephony.dialog.get_by_role("button", name="OK").click()
    expect(telephony.row(NUMBER).locator("td.status")).to_contain_text("Asterisk cannot be reached")
