"""R8-R10 at scale: a site with thousands of numbers lists, pages and searches without a page reload.

The server searches and sends one page (50 rows), so the browser never holds the whole list."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect
from sqlalchemy import insert, select

from pbx.store.db import transaction
from pbx.store.models import NumberFeatures, NumberStatus, Occupier, PhoneNumber, Site
from tests.web.conftest import ACME_ADMIN, sign_in_page
from tests.web.pages import TelephonyPage

pytestmark = pytest.mark.browser
EXTRA = 3000
# Generous bounds for a loaded CI machine; the measured figures are printed.
LOAD_S, FILTER_S = 15.0, 15.0


def add_numbers(factory, count: int) -> None:
    with transaction(factory) as session:
        acme = session.scalar(select(Occupier).where(Occupier.name == "Acme Ltd"))
        site = session.scalar(select(Site).where(Site.name == "London - Old Street"))
        session.execute(
            insert(PhoneNumber),
            [
                {
                    "e164": f"+44207947{i:04d}",
                    "extension": str(1000 + i),
                    "site_id": site.id,
                    "occupier_id": acme.id,
                    "status": NumberStatus.ACTIVE,
                    "is_main": False,
                    "default_pin": "480263",
                    "failed_pin_count": 0,
                    "pin_locked": False,
                    "label_first": "Desk",
                    "label_second": str(i),
                }
                for i in range(count)
            ],
        )
        ids = session.scalars(select(PhoneNumber.id).where(PhoneNumber.e164.like("+44207947%"))).all()
        session.execute(insert(NumberFeatures), [{"number_id": number_id} for number_id in ids])


def test_r8_thousands_of_numbers_list_and_filter_as_you_type(browser_page, factory, ids):
    add_numbers(factory, EXTRA)
    sign_in_page(browser_page, ACME_ADMIN)
    page = TelephonyPage(browser_page).wait_for_rows()
    started = time.monotonic()
    browser_page.get_by_label("Site name").select_option(str(ids.sites["London - Old Street"]))
    expect(browser_page.locator("#list-count")).to_have_text(
        f"1\u201350 of {EXTRA + 6:,} phone numbers", timeout=30_000
    )
    loaded = time.monotonic() - started
    assert browser_page.locator("#numbers tbody tr").count() == 50
    page.mark_page()

    browser_page.get_by_role("button", name="Next page").click()
    expect(browser_page.locator("#list-count")).to_have_text(
        f"51\u2013100 of {EXTRA + 6:,} phone numbers", timeout=30_000
    )
    expect(browser_page.locator("#numbers tbody tr").first).to_be_focused()

    started = time.monotonic()
    browser_page.get_by_label("Search").fill("desk 2999")
    expect(browser_page.locator("#list-count")).to_have_text("1 phone number matches", timeout=30_000)
    filtered = time.monotonic() - started
    assert page.visible_numbers() == ["+442079472999"]
    browser_page.get_by_label("Search").fill("020 7947 2999")  # the national format people type
    assert page.visible_numbers() == ["+442079472999"]
    page.assert_not_reloaded()
    print(f"\n{EXTRA + 6} numbers: listed in {loaded:.2f} s, filtered in {filtered:.2f} s")
    assert loaded < LOAD_S and filtered < FILTER_S
