"""The phone's business rules: what a person at a handset may do, as plain service functions.

The Stasis app (pbx/asterisk/ari/) keeps only prompts and digit flow; it calls these
with a handset actor (`Actor.handset`), never the system, and gets plain values back.
Who may do what from a phone:
- the handset acts for the number logged in to it (`find_desk(...).actor`): its own
  number's features (R34), its voicemail after the PIN, logging it out (*12), and its
  outgoing calls (R22);
- keyed digits reach other numbers only inside a scope (`Reach`): the caller's own
  occupier (*98) or the handset's site (*11). The scope is what permits a PIN attempt;
- a proved PIN (`check_pin` -> `PinProof`) lets the handset act for that number too:
  open its voicemail, set its custom PIN, log it in here. Nothing else mints a proof;
- the voice portal (R42, `phone.portal`): anyone calling a site's portal proves a number's
  PIN there and acts for that number only, as `Actor.portal` (no handset, no operator rights).
"""

from __future__ import annotations

from pbx.services.phone.access import PinResult, check_pin, log_in, log_out, open_voicemail, set_custom_pin
from pbx.services.phone.authcode import authcode_needed, check_authcode, is_emergency
from pbx.services.phone.codes import change_feature
from pbx.services.phone.conference import Entry, conference_of_handset, conference_of_number, enter_conference
from pbx.services.phone.desk import (
    Desk,
    Reach,
    Reachable,
    dialled_e164,
    dialled_target,
    find_desk,
    find_numbers,
    number_in_the_way,
)
from pbx.services.phone.proof import PinProof

__all__ = [
    "Desk",
    "Entry",
    "PinProof",
    "PinResult",
    "Reach",
    "Reachable",
    "authcode_needed",
    "change_feature",
    "check_authcode",
    "check_pin",
    "conference_of_handset",
    "conference_of_number",
    "dialled_e164",
    "dialled_target",
    "enter_conference",
    "find_desk",
    "find_numbers",
    "is_emergency",
    "log_in",
    "log_out",
    "number_in_the_way",
    "open_voicemail",
    "set_custom_pin",
]
