/* The phone number list (R10): one page of rows read from the JSON API at a time. The server
   searches (R8) and pages, so a site with 10,000 numbers sends 50 rows, not 10,000. Pending rows
   on screen are re-read in one request until the controller has applied their change (R4), then
   the row updates in place. The table is one Tab stop: arrow keys move between rows (a roving
   tab stop), Tab moves into the current row's actions. */
import { api, el } from "./api.js";

const SEARCH_DELAY_MS = 180;
const NUMBER_FORMAT = new Intl.NumberFormat("en-GB");

/* R11: [action, the help page's name] (shown on the button); labels may depend on the row. */
const ACTIONS = [
  ["details", "Phone number details"],
  ["features", "Phone number features"],
  ["reset-pin", "Reset PIN"],
  ["handset", (r) => (r.logged_in ? "Log out from handset" : "Login a new handset")],
  ["display-name", "Edit display name"],
  ["assign", (r) => (r.user ? "Unassign user" : "Assign user")],
];
const text = (value, row) => (typeof value === "function" ? value(row) : value);
export const formatCount = (n) => NUMBER_FORMAT.format(n);

/* R8 in the browser, for a row that arrives by itself (e.g. a live update) while a search is on
   screen: digits match the number or the extension, any text Assigned to. The server's search
   (pbx/services/number_search.py) also reads national formats; this is the quick check. */
export function matches(row, query) {
  const needle = query.trim().toLowerCase();
  if (!needle) return true;
  const digits = needle.replace(/\D/g, "");
  if (digits && digits === needle.replace(/^\++/, "").replaceAll(" ", "")
      && (row.number.includes(digits) || row.extension.includes(digits))) return true;
  return row.assigned_to.text.toLowerCase().includes(needle) || row.number.includes(needle);
}

/* Copying a number shown in the national format copies its E.164 form. */
document.addEventListener("copy", (event) => {
  const selection = window.getSelection();
  const holder = selection && selection.anchorNode && selection.anchorNode.parentElement
    && selection.anchorNode.parentElement.closest("[data-e164]");
  if (holder && selection.toString().trim() === holder.textContent.trim()) {
    event.clipboardData.setData("text/plain", holder.dataset.e164);
    event.preventDefault();
  }
});

export class NumbersTable extends EventTarget {
  constructor(table) {
    super();
    this.table = table;
    this.tbody = table.tBodies[0];
    this.source = table.dataset.source;
    this.actions = new Set(table.dataset.actions.split(/\s+/).filter(Boolean));
    this.linkUsers = table.dataset.linkUsers === "yes";
    this.featuresFrom = table.dataset.featuresFrom;
    this.pollMs = Number(table.dataset.pollMs) || 1000;
    this.perPage = Number(table.dataset.perPage) || 50;
    this.owner = Number(table.dataset.owner) || null; // a user's page lists only that user's number
    // A Pending row not applied after this long says why (the controller or Asterisk is away).
    this.stallMs = Number(table.dataset.stallMs) || this.pollMs * 4;
    this.pendingSince = new Map();
    this.applying = null; // the server's last word on whether changes can be applied now
    this.rows = new Map();
    this.trs = new Map();
    this.query = "";
    this.page = 1;
    this.pages = 1;
    this.total = 0;
    this.timer = null;
    this.searchTimer = null;
    this.polling = false;
    this.loadSeq = 0;
    this.current = null; // the row holding the table's one tab stop
    this.empty = document.getElementById("numbers-empty");
    this.pager = document.getElementById("numbers-pager");
    this.pager?.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-page]");
      if (button) this.goTo(this.page + Number(button.dataset.page)).then(() => this.focusFirst());
    });
    this.tbody.addEventListener("keydown", (event) => this.onKey(event));
    this.tbody.addEventListener("focusin", (event) => {
      const tr = event.target.closest && event.target.closest("tr[data-id]");
      if (tr) this.setCurrent(tr);
    });
  }

  /* Kept for pages written before every row had its buttons: returns the row. */
  ensureActions(tr) {
    return tr;
  }

  url(source) {
    const url = new URL(source, window.location.origin);
    if (this.query) url.searchParams.set("q", this.query);
    if (this.page > 1) url.searchParams.set("page", String(this.page));
    url.searchParams.set("per_page", String(this.perPage));
    return url.pathname + url.search;
  }

  async load(source = this.source) {
    if (source !== this.source) this.page = 1;
    this.source = source;
    const seq = ++this.loadSeq;
    this.table.setAttribute("aria-busy", "true");
    const data = await api("GET", this.url(source));
    if (seq !== this.loadSeq) return; // the person has moved on (another site, page or search)
    this.total = data.total ?? data.numbers.length;
    this.pages = data.pages ?? 1;
    if (this.page > this.pages) this.page = this.pages;
    this.setRows(data.numbers);
    this.table.dataset.query = this.query; // what the rows on screen answer (the tests wait for it)
    this.table.setAttribute("aria-busy", "false");
    this.dispatchEvent(new CustomEvent("loaded", { detail: data }));
  }

  goTo(page) {
    this.page = Math.min(Math.max(1, page), this.pages);
    return this.load();
  }

  /* R8: the server searches; typing waits a moment so each keystroke does not send a request. */
  filter(query) {
    if (query === this.query) return Promise.resolve();
    this.query = query;
    this.page = 1;
    this.table.setAttribute("aria-busy", "true");
    clearTimeout(this.searchTimer);
    return new Promise((resolve, reject) => {
      this.searchTimer = setTimeout(() => this.load().then(resolve, reject), SEARCH_DELAY_MS);
    });
  }

  setRows(rows) {
    this.rows.clear();
    this.trs.clear();
    const fragment = document.createDocumentFragment();
    for (const row of rows) {
      const tr = this.renderRow(row);
      this.rows.set(row.id, row);
      this.trs.set(row.id, tr);
      fragment.append(tr);
    }
    this.tbody.replaceChildren(fragment);
    const firstActionable = [...this.trs.values()].find((tr) => tr.dataset.actionable === "yes");
    this.current = null;
    this.setCurrent(firstActionable || this.tbody.rows[0] || null);
    this.showCount();
    this.watchPending();
  }

  showCount() {
    const shown = this.rows.size;
    if (this.empty) this.empty.hidden = shown > 0;
    const first = shown ? (this.page - 1) * this.perPage + 1 : 0;
    if (this.pager) {
      this.pager.hidden = this.pages <= 1;
      this.pager.querySelector("[data-page='-1']").disabled = this.page <= 1;
      this.pager.querySelector("[data-page='1']").disabled = this.page >= this.pages;
      this.pager.querySelector("[data-slot='where']").textContent = `Page ${this.page} of ${this.pages}`;
    }
    this.dispatchEvent(new CustomEvent("filtered", { detail: {
      shown, total: this.total, first, last: first + shown - 1, page: this.page, pages: this.pages, query: this.query,
    } }));
  }

  /* Replace one row in place, keeping keyboard focus on the same action when it still exists. */
  update(row) {
    const old = this.trs.get(row.id);
    if (!old) return;
    if (this.owner && (!row.user || row.user.id !== this.owner)) {
      // Unassigned from a user's page: the number is no longer theirs, so its row goes.
      this.remove(row.id);
      this.dispatchEvent(new CustomEvent("row-updated", { detail: row }));
      return;
    }
    if (JSON.stringify(this.rows.get(row.id)) !== JSON.stringify(row)) {
      const focused = old.contains(document.activeElement) ? (document.activeElement.dataset.action || "row") : null;
      const tr = this.renderRow(row);
      const wasCurrent = this.current === old;
      old.replaceWith(tr);
      this.rows.set(row.id, row);
      this.trs.set(row.id, tr);
      if (wasCurrent) {
        this.current = null;
        this.setCurrent(tr);
      }
      if (focused) (tr.querySelector(`[data-action="${focused}"]`) || tr).focus();
    }
    this.dispatchEvent(new CustomEvent("row-updated", { detail: row }));
    this.watchPending();
  }

  /* A row the person removed from this list (e.g. unassigned on a user's page). */
  remove(id) {
    const tr = this.trs.get(id);
    if (!tr) return;
    if (this.current === tr) this.current = null;
    tr.remove();
    this.rows.delete(id);
    this.trs.delete(id);
    this.total = Math.max(0, this.total - 1);
    if (!this.current) this.setCurrent(this.tbody.rows[0] || null);
    this.showCount();
  }

  /* The roving tab stop: only the current row and its actions are in the Tab order. */
  setCurrent(tr) {
    if (tr === this.current) return;
    if (this.current) {
      this.current.tabIndex = -1;
      for (const action of this.current.querySelectorAll("[data-action]")) action.tabIndex = -1;
    }
    this.current = tr;
    if (tr) {
      tr.tabIndex = 0;
      for (const action of tr.querySelectorAll("[data-action]")) action.tabIndex = 0;
    }
  }

  focusFirst() {
    const tr = this.tbody.rows[0];
    if (tr) {
      this.setCurrent(tr);
      tr.focus();
    }
  }

  onKey(event) {
    const tr = event.target.closest("tr[data-id]");
    if (!tr) return;
    const all = [...this.tbody.rows];
    const at = all.indexOf(tr);
    const to = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: all.length - 1 }[event.key];
    if (to === undefined || (event.target !== tr && (event.key === "Home" || event.key === "End"))) return;
    const next = all[Math.min(Math.max(0, to), all.length - 1)];
    event.preventDefault();
    if (next) {
      this.setCurrent(next);
      next.focus();
    }
  }

  /* How long a row has been Pending on this page; forgotten once it is not. */
  stalled(row) {
    if (row.status !== "pending") {
      this.pendingSince.delete(row.id);
      return false;
    }
    if (!this.pendingSince.has(row.id)) this.pendingSince.set(row.id, Date.now());
    return Date.now() - this.pendingSince.get(row.id) >= this.stallMs;
  }

  waitingText() {
    const a = this.applying;
    if (a && !a.ok) return `Not applied yet: ${a.reason}. ${a.later}`;
    return "Taking longer than usual: Asterisk has not confirmed the change yet.";
  }

  /* R4, no dead ends: a Pending row that waits too long says why, under its badge. */
  markWaiting() {
    for (const [id, row] of this.rows) {
      const cell = this.trs.get(id)?.querySelector("td.status");
      if (!cell) continue;
      let note = cell.querySelector(".waiting-text");
      const show = this.stalled(row) && !row.last_error;
      if (show && !note) {
        note = el("div", { class: "waiting-text" });
        cell.append(note);
      }
      if (show) note.textContent = this.waitingText();
      else if (note) note.remove();
    }
  }

  pendingIds() {
    return [...this.rows.values()].filter((r) => r.status === "pending").map((r) => r.id);
  }

  watchPending() {
    if (this.timer === null && !this.polling && this.pendingIds().length) {
      this.timer = setTimeout(() => this.poll(), this.pollMs);
    }
  }

  /* One request for every Pending row on screen (never more than one page of them). */
  async poll() {
    this.timer = null;
    this.polling = true;
    const ids = this.pendingIds();
    try {
      if (ids.length) {
        const data = await api("GET", `/api/v1/numbers?ids=${ids.join(",")}`);
        this.applying = data.applying || null;
        for (const row of data.numbers) this.update(row);
        this.markWaiting();
      }
    } catch {
      // The web server itself may be restarting: say so on the waiting rows, try again on the next tick.
      this.applying = { ok: false, reason: "the web server cannot be reached", later: "Your change is kept." };
      this.markWaiting();
    } finally {
      this.polling = false;
      this.watchPending();
    }
  }

  /* Resolves with the row once its change is applied, or has failed to apply, or (`waiting` set)
     once it has waited `stallMs` without either: a pop-up never spins without saying why. */
  settled(id) {
    return new Promise((resolve) => {
      let timer = null;
      const finish = (row) => {
        clearTimeout(timer);
        this.removeEventListener("row-updated", listener);
        resolve(row);
      };
      const check = (row) => {
        if (!row || row.id !== id || (row.status === "pending" && !row.last_error)) return false;
        finish(row);
        return true;
      };
      const listener = (event) => check(event.detail);
      this.addEventListener("row-updated", listener);
      if (!check(this.rows.get(id))) {
        const wait = () => {
          const row = this.rows.get(id);
          if (!row) finish({ id, waiting: this.waitingText() });
          else if (row.status === "pending" && !row.last_error) finish({ ...row, waiting: this.waitingText() });
        };
        timer = setTimeout(wait, this.stallMs + this.pollMs); // a poll after the stall has the reason
      }
    });
  }

  renderRow(row) {
    const actionable = Boolean(row.actions && this.actions.size > 0);
    const tr = el("tr", { dataset: { id: row.id, status: row.status, e164: row.number,
      actionable: actionable ? "yes" : "no" }, tabindex: "-1" });
    const national = row.national || row.number;
    tr.append(
      el("td", { class: "e164", dataset: { label: "Phone number" } },
        el("span", { class: "mono", title: row.number, dataset: { e164: row.number }, text: national }),
        el("div", { class: "muted", text: `Ext. ${row.extension}` })),
      el("td", { class: "mono pin", dataset: { label: "Default PIN" }, text: row.default_pin }),
      el("td", { class: "assigned", dataset: { label: "Assigned to" } }, this.assignedTo(row)),
      el("td", { class: "status", dataset: { label: "Status" } },
        el("span", { class: `badge badge-${row.status}`, text: row.status_label }),
        row.last_error ? el("div", { class: "error-text", text: `Not applied yet: ${row.last_error}` }) : null,
        !row.last_error && this.stalled(row) ? el("div", { class: "waiting-text", text: this.waitingText() }) : null),
      el("td", { class: "logged-in", dataset: { label: "Logged in" } },
        // R4: a login or logout that is not applied yet says so; the row is not "Logged in" until Active.
        row.status === "pending" && row.phone_id ? "Pending" : (row.logged_in ? "Logged in" : "N/A"),
        row.phone_id ? el("div", { class: "muted mono", text: row.phone_id }) : null),
      el("td", { class: "actions" }, actionable ? el("div", { class: "row-actions" }, this.actionButtons(row)) : null),
    );
    return tr;
  }

  assignedTo(row) {
    const who = row.assigned_to;
    if (who.kind === "main") return el("span", { class: "tag", text: who.text });
    if (who.kind === "unassigned") return el("span", { class: "muted", text: who.text });
    if (who.kind === "user" && this.linkUsers) return el("a", { href: who.url, text: who.text, tabindex: "-1", dataset: { action: "user" } });
    return who.text;
  }

  actionButtons(row) {
    const buttons = [];
    for (const [action, full] of ACTIONS) {
      if (!this.actions.has(action)) continue;
      const name = text(full, row);
      const label = `${name}, ${row.national || row.number}`;
      const common = { class: "button small secondary", "aria-label": label, tabindex: "-1", dataset: { action } };
      if (action === "features") {
        const href = this.featuresFrom ? `${row.features_url}?from=${this.featuresFrom}` : row.features_url;
        buttons.push(el("a", { ...common, href }, name));
      } else {
        buttons.push(el("button", { ...common, type: "button" }, name));
      }
    }
    return buttons;
  }
}
