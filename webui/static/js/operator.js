/* The operator console (R31): a destructive action asks first and says what else it changes
   (who loses a number, which main number steps down, how many numbers stop working); the
   allocate form offers only the chosen occupier's sites; every form is sent without a full
   page reload (the server's page replaces the console in place; without script, forms post
   as usual). The server decides everything. */
const $ = (id) => document.getElementById(id);
let pending = null;

function ask(form, submitter) {
  pending = { form, submitter };
  $("confirm-text").textContent = form.dataset.confirm;
  $("confirm-yes").textContent = form.dataset.confirmButton || "Confirm";
  $("confirm-dialog").showModal();
  $("confirm-yes").focus();
}

/* Send the form; put the page the server answers (after its redirect) in place of this one. */
async function send(form, submitter) {
  const main = $("main");
  main.setAttribute("aria-busy", "true");
  const data = new FormData(form, submitter || undefined);
  try {
    const response = await fetch(form.getAttribute("action"), { method: "POST", body: data, credentials: "same-origin" });
    const html = await response.text();
    const next = new DOMParser().parseFromString(html, "text/html");
    const fresh = next.getElementById("main");
    if (!fresh) throw new Error("no page");
    const y = window.scrollY;
    main.replaceChildren(...fresh.childNodes);
    if (response.url && response.url !== window.location.href) window.history.replaceState(null, "", response.url);
    window.scrollTo(0, y);
    offerSites();
    const news = main.querySelector("#refusal, .banner");
    if (news) {
      news.setAttribute("tabindex", "-1");
      news.focus({ preventScroll: true });
    }
  } catch {
    form.dataset.plain = "yes"; // fall back to an ordinary post
    form.requestSubmit(submitter || undefined);
  } finally {
    main.setAttribute("aria-busy", "false");
  }
}

document.addEventListener("submit", (event) => {
  const form = event.target;
  if ((form.getAttribute("method") || "").toLowerCase() !== "post" || form.dataset.plain === "yes" || !form.closest("#main")) return;
  event.preventDefault();
  if (form.dataset.confirm && form.dataset.confirmed !== "yes") {
    ask(form, event.submitter);
    return;
  }
  send(form, event.submitter);
});

document.addEventListener("click", (event) => {
  if (event.target.id === "confirm-yes" && pending) {
    const { form, submitter } = pending;
    form.dataset.confirmed = "yes";
    pending = null;
    $("confirm-dialog").close();
    send(form, submitter);
  } else if (event.target.id === "confirm-no") {
    $("confirm-dialog").close();
    if (pending) (pending.submitter || pending.form).focus();
    pending = null;
  }
});

/* Only the sites the chosen occupier is based at (the server refuses any other). */
function offerSites() {
  const occupier = $("alloc-occupier");
  const site = $("alloc-site");
  if (!occupier || !site) return;
  let firstAllowed = null;
  for (const option of site.options) {
    const allowed = option.dataset.occupiers.split(" ").includes(occupier.value);
    option.hidden = option.disabled = !allowed;
    if (allowed && !firstAllowed) firstAllowed = option;
  }
  if (site.selectedOptions[0]?.disabled && firstAllowed) firstAllowed.selected = true;
}
document.addEventListener("change", (event) => {
  if (event.target.id === "alloc-occupier") offerSites();
});
offerSites();
