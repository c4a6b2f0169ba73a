"""The Telephony page and the operator console at every screen size (issue 12): 1024 px and a 390 px phone.

Measured in the real browser: no sideways scroll, no header over another, no cell cut off, and the
row actions on screen and usable (by tap on the phone, where nothing hovers)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.web.conftest import ACME_ADMIN, OPERATOR, sign_in_page
from tests.web.pages import TelephonyPage, assert_accessible, screenshot

pytestmark = pytest.mark.browser
OLD_STREET = "London - Old Street"
SIZES = {"tablet": {"width": 1024, "height": 800}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(params=sorted(SIZES))
def sized(request, chromium, live_url):
    context = chromium.new_context(base_url=live_url, viewport=SIZES[request.param])
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield request.param, page
    context.close()


def no_sideways_scroll(page) -> None:
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    wide = page.evaluate(
        """() => [...document.querySelectorAll('body *')]
            .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1
                && e.parentElement.getBoundingClientRect().right <= window.innerWidth + 1)
            .slice(0, 5).map((e) => `${e.tagName}#${e.id}.${e.className}`)"""
    )
    assert width[0] <= width[1], f"the page scrolls sideways: {width} {wide}"


def nothing_clipped(page, selector: str) -> None:
    """Every cell lies inside its table's box, and the table inside its scroll box (nothing hidden)."""
    problems = page.evaluate(
        """(selector) => {
            const table = document.querySelector(selector);
            const box = table.parentElement.getBoundingClientRect();
            const out = [];
            if (table.scrollWidth > table.parentElement.clientWidth + 1) out.push("table wider than its box");
            for (const cell of table.querySelectorAll("td")) {
                const r = cell.getBoundingClientRect();
                const outside = r.left < box.left - 1 || r.right > box.right + 1;
                if (r.width && outside) out.push(cell.textContent.slice(0, 30));
            }
            return out;
        }""",
        selector,
    )
    assert problems == [], problems


def headers_apart(page) -> None:
    rects = page.evaluate(
        """() => [...document.querySelectorAll('#numbers thead th')]
            .map((th) => th.getBoundingClientRect()).filter((r) => r.width > 2)
            .map((r) => [r.left, r.right, r.top, r.bottom])"""
    )
    for i, a in enumerate(rects):
        for b in rects[i + 1 :]:
            overlap_x = min(a[1], b[1]) - max(a[0], b[0])
            overlap_y = min(a[3], b[3]) - max(a[2], b[2])
            assert overlap_x <= 1 or overlap_y <= 1, f"headers overlap: {a} {b}"


def test_telephony_reflows_and_its_actions_stay_reachable(sized):
    size, page = sized
    sign_in_page(page, ACME_ADMIN)
    telephony = TelephonyPage(page).wait_for_rows()
    page.get_by_label("Site name").select_option(label=OLD_STREET)
    expect(telephony.row("+442079460201")).to_be_visible()
    telephony.settled()
    no_sideways_scroll(page)
    nothing_clipped(page, "#numbers")
    if size == "tablet":
        headers_apart(page)
        assigned = telephony.row("+442079460201").locator("td.assigned").bounding_box()
        assert assigned and assigned["width"] >= 80, assigned  # not one letter wide
    screenshot(page, f"telephony-{size}.png")
    row = telephony.row("+442079460204")
    details = row.get_by_role("button", name="Phone number details")
    if size == "phone":
        expect(details).to_be_visible()  # nothing to hover on a phone: the actions are there
        details.click()
    else:
        row.hover()
        details.click()
    expect(telephony.dialog).to_be_visible()
    box = telephony.dialog.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= SIZES[size]["width"] + 1
    assert_accessible(page, f"telephony at {size} with the details pop-up")
    telephony.dialog.get_by_role("button", name="Close").click()
    for name in ("Phone number features", "Reset PIN", "Login a new handset", "Edit display name", "Assign user"):
        button = row.get_by_role("button", name=name).or_(row.get_by_role("link", name=name))
        row.hover()
        box = button.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= SIZES[size]["width"], (name, box)


def test_the_operator_console_fits_the_screen(sized):
    size, page = sized
    sign_in_page(page, OPERATOR)
    expect(page.get_by_role("heading", name="Operator console")).to_be_visible()
    no_sideways_scroll(page)
    screenshot(page, f"operator-{size}.png")
    assert_accessible(page, f"operator console at {size}")
