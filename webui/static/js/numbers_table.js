/* The phone number list (R10): rows read from the JSON API and filtered in the browser (R8),
   so thousands of numbers need no page reload. Pending rows are re-read every second until
   the controller has applied their change (R4), then the row updates in place. */
import { api, el } from "./api.js";

const MAX_POLLED = 500;

/* R8, the same reading as pbx.services.numbers.matches: digits match the number or the
   extension; any text matches Assigned to or the number. */
export function matches(row, query) {
  const needle = query.trim().toLowerCase();
  if (!needle) return true;
  const digits = needle.replace(/\D/g, "");
  if (digits && digits === needle.replace(/^\++/, "").replaceAll(" ", "")
      && (row.number.includes(digits) || row.extension.includes(digits))) return true;
  return row.assigned_to.text.toLowerCase().includes(needle) || row.number.includes(needle);
}

/* R11: [action, short label, the help page's name]; labels may depend on the row. */
const ACTIONS = [
  ["details", "Details", "Phone number details"],
  ["features", "Features", "Phone number features"],
  ["reset-pin", "Reset PIN", "Reset PIN"],
  ["handset", (r) => (r.logged_in ? "Log out" : "Log in"), (r) => (r.logged_in ? "Log out from handset" : "Login a new handset")],
  ["display-name", "Display name", "Display name"],
  ["assign", (r) => (r.user ? "Unassign" : "Assign"), (r) => (r.user ? "Unassign phone number" : "Assign phone number")],
];
const text = (value, row) => (typeof value === "function" ? value(row) : value);

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
    this.rows = new Map();
    this.trs = new Map();
    this.query = "";
    this.timer = null;
    this.polling = false;
    this.empty = document.getElementById("numbers-empty");
    // Action buttons are built when a row is first hovered or focused: thousands of rows
    // with six buttons each would take the browser seconds to lay out.
    const materialize = (event) => {
      const tr = event.target.closest && event.target.closest("tr[data-id]");
      if (tr) this.ensureActions(tr);
    };
    this.tbody.addEventListener("mouseover", materialize);
    this.tbody.addEventListener("focusin", materialize);
  }

  ensureActions(tr) {
    const box = tr.querySelector(".row-actions");
    if (box && !box.childElementCount) box.append(...this.actionButtons(this.rows.get(Number(tr.dataset.id))));
    return tr;
  }

  async load(source = this.source) {
    this.source = source;
    this.table.setAttribute("aria-busy", "true");
    const data = await api("GET", source);
    if (source !== this.source) return; // the person has moved on to another site
    this.setRows(data.numbers);
    this.table.setAttribute("aria-busy", "false");
    this.dispatchEvent(new CustomEvent("loaded", { detail: data }));
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
    this.filter(this.query);
    this.watchPending();
  }

  /* Replace one row in place, keeping keyboard focus on the same action when it still exists. */
  update(row) {
    const old = this.trs.get(row.id);
    if (!old) return;
    if (JSON.stringify(this.rows.get(row.id)) !== JSON.stringify(row)) {
      const focused = old.contains(document.activeElement) ? document.activeElement.dataset.action : null;
      const tr = this.renderRow(row);
      if (old.querySelector(".row-actions > *")) this.ensureActions(tr);
      tr.hidden = !matches(row, this.query);
      old.replaceWith(tr);
      this.rows.set(row.id, row);
      this.trs.set(row.id, tr);
      if (focused) (tr.querySelector(`[data-action="${focused}"]`) || tr).focus();
    }
    this.dispatchEvent(new CustomEvent("row-updated", { detail: row }));
    this.watchPending();
  }

  filter(query) {
    this.query = query;
    let shown = 0;
    for (const [id, row] of this.rows) {
      const visible = matches(row, query);
      this.trs.get(id).hidden = !visible;
      if (visible) shown += 1;
    }
    if (this.empty) this.empty.hidden = shown > 0 || this.rows.size === 0;
    this.dispatchEvent(new CustomEvent("filtered", { detail: { shown, total: this.rows.size } }));
  }

  pendingIds() {
    return [...this.rows.values()].filter((r) => r.status === "pending").map((r) => r.id);
  }

  watchPending() {
    if (this.timer === null && !this.polling && this.pendingIds().length) {
      this.timer = setTimeout(() => this.poll(), this.pollMs);
    }
  }

  async poll() {
    this.timer = null;
    this.polling = true;
    const ids = this.pendingIds().slice(0, MAX_POLLED);
    try {
      if (ids.length) {
        const data = await api("GET", `/api/v1/numbers?ids=${ids.join(",")}`);
        for (const row of data.numbers) this.update(row);
      }
    } catch {
      // The server may be restarting: try again on the next tick.
    } finally {
      this.polling = false;
      this.watchPending();
    }
  }

  /* Resolves with the row once its change is applied, or has failed to apply. */
  settled(id) {
    return new Promise((resolve) => {
      const check = (row) => {
        if (row.id !== id || (row.status === "pending" && !row.last_error)) return false;
        this.removeEventListener("row-updated", listener);
        resolve(row);
        return true;
      };
      const listener = (event) => check(event.detail);
      this.addEventListener("row-updated", listener);
      check(this.rows.get(id));
    });
  }

  renderRow(row) {
    const actionable = row.actions && this.actions.size > 0;
    // An actionable row is a tab stop itself, so the keyboard reaches its actions (R11).
    const tr = el("tr", { dataset: { id: row.id, status: row.status }, tabindex: actionable ? "0" : "-1" });
    tr.append(
      el("td", { class: "e164" }, el("span", { class: "mono", text: row.number }),
        el("div", { class: "muted", text: `Ext. ${row.extension}` })),
      el("td", { class: "mono", text: row.default_pin }),
      el("td", { class: "assigned" }, this.assignedTo(row)),
      el("td", { class: "status" }, el("span", { class: `badge badge-${row.status}`, text: row.status_label }),
        row.last_error ? el("div", { class: "error-text", text: `Not applied yet: ${row.last_error}` }) : null),
      el("td", { class: "logged-in" }, row.logged_in ? "Logged in" : "N/A",
        row.phone_id ? el("div", { class: "muted mono", text: row.phone_id }) : null),
      el("td", { class: "actions" }, actionable ? el("div", { class: "row-actions" }) : null),
    );
    return tr;
  }

  assignedTo(row) {
    const who = row.assigned_to;
    if (who.kind === "main") return el("span", { class: "tag", text: who.text });
    if (who.kind === "unassigned") return el("span", { class: "muted", text: who.text });
    if (who.kind === "user" && this.linkUsers) return el("a", { href: who.url, text: who.text });
    return who.text;
  }

  actionButtons(row) {
    const buttons = [];
    for (const [action, short, full] of ACTIONS) {
      if (!this.actions.has(action)) continue;
      const label = `${text(full, row)}, ${row.number}`;
      if (action === "features") {
        const href = this.featuresFrom ? `${row.features_url}?from=${this.featuresFrom}` : row.features_url;
        buttons.push(el("a", { class: "button small secondary", href, title: text(full, row), "aria-label": label,
          dataset: { action } }, text(short, row)));
      } else {
        buttons.push(el("button", { type: "button", class: "button small secondary", title: text(full, row),
          "aria-label": label, dataset: { action } }, text(short, row)));
      }
    }
    return buttons;
  }
}
