/* The Telephony page (R7-R11): site selector, search as you type, Refresh, the list and its row actions. */
import { toast } from "./api.js";
import { followChanges } from "./live_rows.js";
import { NumbersTable } from "./numbers_table.js";
import { RowActions } from "./row_actions.js";

const table = new NumbersTable(document.getElementById("numbers"));
new RowActions(table);
const search = document.getElementById("search");
const site = document.getElementById("site");
const count = document.getElementById("list-count");

table.addEventListener("filtered", ({ detail }) => {
  count.textContent = detail.shown === detail.total
    ? `${detail.total} phone number${detail.total === 1 ? "" : "s"}`
    : `${detail.shown} of ${detail.total} phone numbers match`;
});

function failed(error) {
  count.textContent = `The list could not be loaded: ${error.message}`;
}

search.addEventListener("input", () => table.filter(search.value));

/* R7: changing the site lists that site's numbers, and the address remembers it. */
site?.addEventListener("change", () => {
  const url = new URL(window.location.href);
  url.searchParams.set("site", site.value);
  window.history.replaceState(null, "", url);
  table.table.caption.textContent = `Phone numbers at ${site.selectedOptions[0].textContent}`;
  table.load(`/api/v1/sites/${site.value}/numbers`).catch(failed);
});

/* R9: changes made elsewhere show after Refresh. */
document.getElementById("refresh").addEventListener("click", () => {
  table.load().then(() => toast("The list is up to date"), failed);
});

table.load().catch(failed);
followChanges(table);
