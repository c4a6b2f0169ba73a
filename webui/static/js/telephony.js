/* The Telephony page (R7-R11): site selector, search as you type (in the server), Refresh, the list and its row actions. */
import { toast } from "./api.js";
import { followChanges } from "./live_rows.js";
import { formatCount, NumbersTable } from "./numbers_table.js";
import { RowActions } from "./row_actions.js";

const table = new NumbersTable(document.getElementById("numbers"));
new RowActions(table);
const search = document.getElementById("search");
const site = document.getElementById("site");
const count = document.getElementById("list-count");

const plural = (n) => `${formatCount(n)} phone number${n === 1 ? "" : "s"}`;

table.addEventListener("filtered", ({ detail }) => {
  const paged = detail.pages > 1 ? `${formatCount(detail.first)}–${formatCount(detail.last)} of ` : "";
  if (!detail.query) count.textContent = `${paged}${plural(detail.total)}`;
  else count.textContent = `${paged}${plural(detail.total)} ${detail.total === 1 && !paged ? "matches" : "match"}`;
});

function failed(error) {
  count.textContent = `The list could not be loaded: ${error.message}`;
}

search.addEventListener("input", () => table.filter(search.value).catch(failed));

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
