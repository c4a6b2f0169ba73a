"""R45 on the Telephony page, in a real browser: a row changes when another admin changes its
number (through the API, with a token), without Refresh and without reloading the page."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect

from tests.web.conftest import ACME_ADMIN, sign_in_page
from tests.web.pages import TelephonyPage
from tests.web.test_openapi import token_for

pytestmark = pytest.mark.browser
OLD_STREET = "London - Old Street"
LIVE_WAIT_MS = 25_000


def test_r45_a_row_follows_another_admins_change_without_refresh(browser_page, live_url, factory, ids):
    sign_in_page(browser_page, ACME_ADMIN)
    page = TelephonyPage(browser_page).wait_for_rows()
    browser_page.get_by_label("Site name").select_option(label=OLD_STREET)
    row = page.row("+442079460204")
    expect(row).to_contain_text("Unassigned")
    page.mark_page()
    browser_page.wait_for_timeout(1500)  # the stream is open and has read where "now" is
    token = token_for(factory, ids, ACME_ADMIN)
    number = ids.numbers["+442079460204"]
    answer = httpx.put(
        f"{live_url}/api/v1/numbers/{number}/display-name",
        json={"first": "Quiet", "second": "Room"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    expect(row).to_contain_text("Quiet Room", timeout=LIVE_WAIT_MS)
    answer = httpx.put(
        f"{live_url}/api/v1/numbers/{number}/handset",
        json={"phone_id": "desk-os-5"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    expect(row.locator("td.logged-in")).to_contain_text("desk-os-5", timeout=LIVE_WAIT_MS)
    page.assert_not_reloaded()
