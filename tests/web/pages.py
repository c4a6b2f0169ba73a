"""How a person finds things on the pages, so the browser tests read like what they do."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Locator, Page, expect

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


class TelephonyPage:
    def __init__(self, page: Page) -> None:
        self.page = page
        self.dialog = page.locator("#action-dialog")

    def wait_for_rows(self) -> TelephonyPage:
        expect(self.page.locator("#numbers")).to_have_attribute("aria-busy", "false")
        return self

    def row(self, e164: str) -> Locator:
        """The row of a number by its E.164 form (the cell shows the national form, E.164 in its title)."""
        return self.page.locator(f'#numbers tbody tr[data-e164="{e164}"]')

    def action(self, e164: str, name: str) -> Locator:
        row = self.row(e164)
        row.hover()
        return row.get_by_role("button", name=name)

    def settled(self) -> TelephonyPage:
        """The server has answered what the search box says (the search runs in the server)."""
        self.page.wait_for_function(
            """() => {
                const table = document.getElementById("numbers");
                const box = document.getElementById("search");
                return table && table.getAttribute("aria-busy") === "false"
                    && (!box || (table.dataset.query || "") === box.value);
            }""",
            timeout=30_000,
        )
        return self

    def visible_numbers(self) -> list[str]:
        self.settled()
        return self.page.locator("#numbers tbody tr:not([hidden]) td.e164 .mono").evaluate_all(
            "(cells) => cells.map((cell) => cell.dataset.e164)"
        )

    def mark_page(self) -> None:
        """A flag that only survives if the page is never reloaded."""
        self.page.evaluate("window.notReloaded = true")

    def assert_not_reloaded(self) -> None:
        assert self.page.evaluate("window.notReloaded === true"), "the page was reloaded"


def screenshot(target: Page | Locator, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target.screenshot(path=str(SCREENSHOTS / name))


def api_status(page: Page, method: str, url: str, with_csrf: bool = True, body: dict | None = None) -> int:
    """What the page's own script would get for a request, sent from inside the signed-in browser."""
    return page.evaluate(
        """async ([method, url, withCsrf, body]) => {
            const headers = {"Content-Type": "application/json"};
            if (withCsrf) headers["X-CSRFToken"] = document.querySelector('meta[name="csrf-token"]').content;
            const options = {method, headers};
            if (method !== "GET") options.body = JSON.stringify(body || {});
            return (await fetch(url, options)).status;
        }""",
        [method, url, with_csrf, body],
    )


def assert_accessible(page: Page, what: str = "") -> None:
    """axe-core (bundled by axe-playwright-python) finds no violation on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    assert results.violations_count == 0, f"{what}: {results.generate_report()}"
