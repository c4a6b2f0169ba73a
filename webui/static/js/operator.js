/* The operator console (R31): a destructive action asks first and says what else it changes
   (who loses a number, which main number steps down, how many numbers stop working); the
   allocate form offers only the chosen occupier's sites. The server decides everything. */
const dialog = document.getElementById("confirm-dialog");
const text = document.getElementById("confirm-text");
const yes = document.getElementById("confirm-yes");
let pending = null;

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!form.dataset.confirm || form.dataset.confirmed === "yes") return;
  event.preventDefault();
  pending = { form, submitter: event.submitter };
  text.textContent = form.dataset.confirm;
  yes.textContent = form.dataset.confirmButton || "Confirm";
  dialog.showModal();
  yes.focus();
});

yes.addEventListener("click", () => {
  const { form, submitter } = pending;
  form.dataset.confirmed = "yes";
  dialog.close();
  form.requestSubmit(submitter || undefined);
});
document.getElementById("confirm-no").addEventListener("click", () => dialog.close());
dialog.addEventListener("close", () => {
  if (pending && pending.form.dataset.confirmed !== "yes") (pending.submitter || pending.form).focus();
});

/* Only the sites the chosen occupier is based at (the server refuses any other). */
const occupier = document.getElementById("alloc-occupier");
const site = document.getElementById("alloc-site");
function offerSites() {
  let firstAllowed = null;
  for (const option of site.options) {
    const allowed = option.dataset.occupiers.split(" ").includes(occupier.value);
    option.hidden = option.disabled = !allowed;
    if (allowed && !firstAllowed) firstAllowed = option;
  }
  if (site.selectedOptions[0]?.disabled && firstAllowed) firstAllowed.selected = true;
}
occupier?.addEventListener("change", offerSites);
if (occupier) offerSites();
