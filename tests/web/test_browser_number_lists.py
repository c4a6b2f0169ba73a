"""R36, R37, R22 in a real browser: the operator sees voice services used / bought, filters the
number list, downloads it as CSV, allocates numbers from an uploaded CSV after a preview, and
sets a site's emergency numbers."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.web.conftest import OPERATOR, sign_in_page

pytestmark = pytest.mark.browser
WAIT_MS = 30_000
UPLOAD = "number,extension,occupier,site\n+442079460401,401,Acme Ltd,London - Old Street\n"
UPLOAD_WRONG = UPLOAD + "+442079460401,402,Acme Ltd,London - Old Street\n"


def test_r37_the_operator_filters_downloads_uploads_and_sets_emergency_numbers(browser_page, tmp_path):
    page = browser_page
    page.set_default_timeout(WAIT_MS)
    sign_in_page(page, OPERATOR)
    expect(page.locator("#occupiers tr", has_text="Acme Ltd")).to_contain_text("8 / 12")  # R36
    page.locator("#number-lists-link").click()
    expect(page.get_by_role("heading", name="Number lists")).to_be_visible()

    page.get_by_label("Status").select_option(label="Reserved")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#list-total")).to_have_text("4 numbers")
    with page.expect_download() as download:
        page.locator("#csv-link").click()
    saved = tmp_path / "numbers.csv"
    download.value.save_as(saved)
    assert saved.read_text().splitlines()[1].startswith("'+44")

    wrong, right = tmp_path / "wrong.csv", tmp_path / "right.csv"
    wrong.write_text(UPLOAD_WRONG)
    right.write_text(UPLOAD)
    page.locator("#upload-file").set_input_files(str(wrong))
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#upload-errors")).to_contain_text("Row 3: +442079460401 is also in row 2")
    page.locator("#upload-file").set_input_files(str(right))
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#upload-preview")).to_contain_text("+442079460401")
    page.get_by_role("button", name="Allocate 1 numbers").click()
    expect(page.get_by_text("1 numbers allocated (Reserved)")).to_be_visible()
    expect(page.locator("#number-list tr[data-number='+442079460401']")).to_contain_text("Reserved")

    page.get_by_label("London - Old Street").fill("101")
    page.locator(".emergency-form", has=page.get_by_label("London - Old Street")).get_by_role("button").click()
    expect(page.get_by_text("Emergency numbers at London - Old Street: 112, 999, 911, 101")).to_be_visible()
