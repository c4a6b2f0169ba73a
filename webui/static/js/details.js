/* The read-only "Phone number details" pop-up (R11): every setting of a number, grouped as on the features page. */

const onOff = (flag) => (flag ? "On" : "Off");

export function detailSections(n) {
  const f = n.features;
  const displayName = [n.display_name.first, n.display_name.second].filter(Boolean).join(" ");
  const noAnswer = f.forward_no_answer ? `${f.forward_no_answer} after ${f.no_answer_seconds} s` : "Off";
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
    ["Call forwarding", [
      ["Always", f.forward_always || "Off"], ["Busy", f.forward_busy || "Off"], ["No answer", noAnswer],
    ]],
    ["Voicemail", [["Voicemail", onOff(f.voicemail)], ["Voicemail to email", f.voicemail_email || "Off"]]],
    ["Call settings", [
      ["Hide caller ID", onOff(f.hide_caller_id)], ["Call waiting", onOff(f.call_waiting)],
      ["Do Not Disturb", onOff(f.dnd)], ["CLI", f.cli || "Off (the number itself)"],
      ["Authorization code", onOff(f.authorization_code)],
    ]],
  ];
}
