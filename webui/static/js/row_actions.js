/* The row actions of R11-R15, one pop-up (<dialog>) each. The server decides; the pop-up
   shows its answer: the new row (Pending until applied) or the reason it refused. */
import { api, el, toast } from "./api.js";
import { detailSections } from "./details.js";

export class RowActions {
  constructor(table) {
    this.table = table;
    this.dialog = document.getElementById("action-dialog");
    this.title = document.getElementById("dialog-title");
    this.subtitle = document.getElementById("dialog-subtitle");
    this.body = document.getElementById("dialog-body");
    table.tbody.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-action]");
      if (!button) return;
      const row = table.rows.get(Number(button.closest("tr").dataset.id));
      this.opener = { id: row.id, action: button.dataset.action };
      this[{ details: "details", "reset-pin": "resetPin", handset: "handset", "display-name": "displayName",
        assign: "assign" }[button.dataset.action]](row);
    });
    this.dialog.addEventListener("click", (event) => {
      if (event.target.closest("[data-close]")) this.dialog.close();
    });
    this.dialog.addEventListener("close", () => this.restoreFocus());
  }

  show(templateId, title, row) {
    this.title.textContent = title;
    this.subtitle.textContent = `${row.national || row.number} · ext. ${row.extension}`;
    this.body.replaceChildren(document.getElementById(templateId).content.cloneNode(true));
    this.dialog.classList.toggle("wide", templateId === "tpl-details");
    if (!this.dialog.open) this.dialog.showModal();
    (this.body.querySelector("input, select, button[type=submit], button") || this.dialog).focus();
    return this.body;
  }

  restoreFocus() {
    const tr = this.opener && this.table.trs.get(this.opener.id);
    if (tr) (this.table.ensureActions(tr).querySelector(`[data-action="${this.opener.action}"]`) || tr).focus();
    else if (this.opener) document.getElementById("numbers-empty")?.focus(); // the row left this list
  }

  /* Wire the pop-up's form: a refusal shows its message and the form stays as typed. */
  onSubmit(send) {
    const form = this.body.querySelector("[data-form]");
    const error = form.querySelector("[data-error]");
    const submit = form.querySelector("[type=submit]");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.hidden = true;
      submit.disabled = true;
      try {
        await send(new FormData(form));
      } catch (failure) {
        error.textContent = failure.message;
        error.hidden = false;
        submit.disabled = false;
      }
    });
  }

  question(text) {
    this.body.querySelector('[data-slot="question"]').textContent = text;
  }

  done(answer) {
    this.table.update(answer.number);
    this.dialog.close();
    toast(answer.number.status === "pending" ? `${answer.message}. Pending until applied.` : answer.message);
  }

  /* R15: "after a short delay a message says it worked, or says why not". */
  async report(answer, pendingText, doneText) {
    this.table.update(answer.number);
    const row = this.table.rows.get(answer.number.id);
    this.show("tpl-result", this.title.textContent, row);
    const result = this.body.querySelector('[data-slot="result"]');
    result.querySelector('[data-slot="text"]').textContent = pendingText;
    let settled = await this.table.settled(row.id);
    // No dead end: after a few seconds the pop-up says why it waits, and still finishes if the change applies.
    while (settled.waiting && this.dialog.open && this.body.contains(result)) {
      result.classList.add("failed", "done");
      result.querySelector('[data-slot="text"]').textContent = settled.waiting;
      settled = await this.table.settled(row.id);
    }
    if (!this.body.contains(result)) return;
    result.classList.remove("failed");
    if (settled.waiting) {
      result.classList.add("failed");
      result.querySelector('[data-slot="text"]').textContent = settled.waiting;
    } else if (settled.status === "pending") {
      result.classList.add("failed");
      result.querySelector('[data-slot="text"]').textContent = `Not done yet: ${settled.last_error}`;
    } else {
      result.querySelector('[data-slot="text"]').textContent = doneText;
    }
  }

  async details(row) {
    this.show("tpl-details", "Phone number details", row);
    const slot = this.body.querySelector('[data-slot="details"]');
    try {
      const data = await api("GET", `/api/v1/numbers/${row.id}`);
      slot.replaceChildren(...detailSections(data).map(([heading, facts]) => el("section", {},
        el("h3", { text: heading }),
        el("dl", {}, facts.map(([name, value]) => el("div", {}, el("dt", { text: name }), el("dd", { text: value })))))));
    } catch (failure) {
      slot.replaceChildren(el("p", { class: "dialog-error", text: failure.message }));
    }
  }

  async assign(row) {
    if (row.user) {
      this.show("tpl-unassign", "Unassign user", row);
      this.question(`Unassign ${row.number} from ${row.user.name}? The display name, if any, stays.`);
      this.onSubmit(async () => this.done(await api("DELETE", `/api/v1/numbers/${row.id}/user`)));
      return;
    }
    this.show("tpl-assign", "Assign user", row);
    const select = this.body.querySelector("select");
    this.onSubmit(async (data) => this.done(
      await api("PUT", `/api/v1/numbers/${row.id}/user`, { user_id: Number(data.get("user_id")) })));
    const more = this.body.querySelector('[data-slot="more"]');
    const fill = async (query) => {
      const { users, more: cut } = await api("GET", `/api/v1/numbers/${row.id}/users?q=${encodeURIComponent(query)}`);
      select.replaceChildren(el("option", { value: "", text: users.length ? "Pick a user" : "No user matches" }),
        ...users.map((user) => el("option", {
          value: user.id, disabled: user.selectable ? null : "",
          text: user.selectable ? `${user.name} (${user.email})` : `${user.name}: has ${user.number}`,
        })));
      more.hidden = !cut;
    };
    // A big occupier has thousands of users: the list shows 100, the search box asks the server for the rest.
    let timer = null;
    this.body.querySelector("#assign-find").addEventListener("input", (event) => {
      clearTimeout(timer);
      timer = setTimeout(() => fill(event.target.value).catch(() => {}), 200);
    });
    await fill("");
  }

  displayName(row) {
    this.show("tpl-display-name", "Edit display name", row);
    this.body.querySelector("#label-first").value = row.display_name.first;
    this.body.querySelector("#label-second").value = row.display_name.second;
    this.onSubmit(async (data) => this.done(await api("PUT", `/api/v1/numbers/${row.id}/display-name`,
      { first: data.get("first"), second: data.get("second") })));
  }

  resetPin(row) {
    this.show("tpl-reset-pin", "Reset PIN", row);
    this.question(`Reset the PIN of ${row.number} to its default PIN ${row.default_pin}? A locked PIN is unlocked.`);
    this.onSubmit(async () => {
      const answer = await api("POST", `/api/v1/numbers/${row.id}/pin-reset`);
      this.table.update(answer.number);
      this.show("tpl-result", "Reset PIN", row);
      const result = this.body.querySelector('[data-slot="result"]');
      result.classList.add("done");
      result.querySelector('[data-slot="text"]').textContent = `${answer.message}.`;
    });
  }

  async handset(row) {
    if (row.logged_in) {
      this.show("tpl-logout", "Log out from handset", row);
      this.question(`Log ${row.number} out of handset ${row.phone_id}?`);
      this.onSubmit(async () => {
        const phoneId = row.phone_id;
        const answer = await api("DELETE", `/api/v1/numbers/${row.id}/handset`);
        await this.report(answer, `Logging out of ${phoneId}…`, `Logged out: ${phoneId} no longer rings for ${row.number}.`);
      });
      return;
    }
    this.show("tpl-login", "Login a new handset", row);
    const select = this.body.querySelector("select");
    this.onSubmit(async (data) => {
      const phoneId = data.get("phone_id");
      const answer = await api("PUT", `/api/v1/numbers/${row.id}/handset`, { phone_id: phoneId });
      await this.report(answer, `Logging in to ${phoneId}…`,
        `Login complete: calls to ${row.number} now ring handset ${phoneId}.`);
    });
    const inUse = (h) => (h.extension ? ` (in use by ext. ${h.extension})` : " (in use)");
    const more = this.body.querySelector('[data-slot="more"]');
    const fill = async (query) => {
      const { handsets, more: cut } = await api("GET",
        `/api/v1/numbers/${row.id}/handsets?q=${encodeURIComponent(query)}`);
      select.replaceChildren(el("option", { value: "", text: handsets.length ? "Pick a Phone ID" : "No Phone ID matches" }),
        ...handsets.map((h) => el("option", { value: h.phone_id, text: h.taken ? `${h.phone_id}${inUse(h)}` : h.phone_id })));
      more.hidden = !cut;
    };
    let timer = null;
    this.body.querySelector("#login-find").addEventListener("input", (event) => {
      clearTimeout(timer);
      timer = setTimeout(() => fill(event.target.value).catch(() => {}), 200);
    });
    await fill("");
  }
}

