/* The read-only "Phone number details" pop-up (R11): every setting of a number, grouped as on the features page.
   The feature sections, labels and kinds come from the server (pbx.feature_table), with the values. */

const onOff = (flag) => (flag ? "On" : "Off");

function shown(feature) {
  if (feature.kind === "flag" || feature.kind === "secret") return onOff(feature.value);
  if (feature.kind === "number") return feature.value || "Off (the number itself)";
  return feature.value === "" ? "Off" : String(feature.value);
}

// A feature shown inside another's row (the seconds before forwarding on no answer) adds to it while it is on.
function featureFacts(features) {
  return features.filter((f) => !f.part_of).map((f) => {
    const parts = features.filter((part) => part.part_of === f.key);
    const extra = f.value ? parts.map((part) => (part.kind === "seconds" ? ` after ${part.value} s` : ` ${shown(part)}`)) : [];
    return [f.label, shown(f) + extra.join("")];
  });
}

export function detailSections(n) {
  const displayName = [n.display_name.first, n.display_name.second].filter(Boolean).join(" ");
  return [
    ["Phone details", [
      ["Phone number", n.number], ["Extension", n.extension], ["Default PIN", n.default_pin],
      ["PIN", n.pin_state], ["Site", n.site], ["Status", n.status_label],
    ]],
    ["Assignment", [
      ["Assigned to", n.assigned_to.text], ["User", n.user ? n.user.name : "None"],
      ["Display name", displayName || "None"],
      ["Handset", n.phone_id ? `Logged in to ${n.phone_id}` : "N/A"],
    ]],
    ...n.feature_sections.map((section) => [section.title, featureFacts(section.features)]),
  ];
}
