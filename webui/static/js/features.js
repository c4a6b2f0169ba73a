/* The features page (R20-R28): options that exclude each other are disabled as the person clicks.
   The server checks the same rules on Save; this only saves a round trip. */
const form = document.getElementById("features-form");
const byId = (id) => document.getElementById(id);

function sync() {
  // A target or address field is usable only while its toggle is on.
  for (const input of form.querySelectorAll("[data-needs]")) {
    const toggle = byId(input.dataset.needs);
    input.disabled = !toggle.checked;
  }
  // R21: Forward on busy and Call waiting exclude each other; if both are on (a refused
  // save shows what was typed), both stay usable so either can be turned off.
  const busy = byId("forward_busy_on");
  const waiting = byId("call_waiting");
  busy.disabled = waiting.checked && !busy.checked;
  waiting.disabled = busy.checked && !waiting.checked;
  // R24: Hide caller ID overrides CLI, so CLI is hidden (its choice is kept) with a note.
  const hidden = byId("hide_caller_id").checked;
  byId("cli-row").hidden = hidden;
  byId("cli-hidden-note").hidden = !hidden;
}

form.addEventListener("change", sync);
sync();
byId("refusal")?.focus();
