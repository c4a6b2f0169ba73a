/* The features page (R20-R28): options that exclude each other are disabled as the person clicks.
   The server checks the same rules on Save; this only saves a round trip. Which options exclude or
   hide which comes from the page (data-needs, data-excludes, data-hidden-by), made from the feature table. */
const form = document.getElementById("features-form");
const byId = (id) => document.getElementById(id);

function sync() {
  // A target or address field is usable only while its checkbox is on.
  for (const input of form.querySelectorAll("[data-needs]")) {
    input.disabled = !byId(input.dataset.needs).checked;
  }
  // R21: options that exclude each other; if both are on (a refused save shows what was typed),
  // both stay usable so either can be turned off.
  for (const box of form.querySelectorAll("[data-excludes]")) {
    const others = box.dataset.excludes.split(" ").map(byId).filter(Boolean);
    box.disabled = !box.checked && others.some((other) => other.checked);
  }
  // R24: an option overridden by another is hidden (its choice is kept), with a note.
  for (const row of form.querySelectorAll("[data-hidden-by]")) {
    row.hidden = byId(row.dataset.hiddenBy).checked;
    const note = form.querySelector(`[data-note-for="${row.id}"]`);
    if (note) note.hidden = !row.hidden;
  }
}

form.addEventListener("change", sync);
sync();
byId("refusal")?.focus();

/* R27: the CLI field suggests the site's numbers that match what is typed (the server searches;
   a site may have thousands of numbers, so they are never all in the page). */
for (const input of form.querySelectorAll("[data-choices]")) {
  const list = document.getElementById(input.getAttribute("list"));
  let timer = null;
  let asked = 0;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const seq = ++asked;
      try {
        const response = await fetch(`${input.dataset.choices}?q=${encodeURIComponent(input.value)}`,
          { credentials: "same-origin", headers: { Accept: "application/json" } });
        if (!response.ok || seq !== asked) return;
        const { choices } = await response.json();
        list.replaceChildren(...choices.map((choice) => {
          const option = document.createElement("option");
          option.value = choice.number;
          option.textContent = choice.label;
          return option;
        }));
      } catch {
        // Suggestions are a help only: the typed number is still checked on Save.
      }
    }, 200);
  });
}
