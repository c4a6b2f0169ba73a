"""R22: the authorization code, keyed on the phone; whether it is needed and right is pbx.services.phone's.

pbx-outbound sends an outgoing external call from a number with a code here with
Stasis(pbx,authcode,<number id>,<E.164>). When the code is right (or not needed:
an emergency number, a site's own included, or no code any more) the call continues
at pbx-outbound-go (extension = the E.164 number, so the dialplan's own variables,
PBX_SELF included, stay as they were); a wrong or missing code gets a short message
and the call ends.
"""

from __future__ import annotations

import re

from pbx.asterisk.ari import prompts
from pbx.asterisk.ari.channel import Call
from pbx.asterisk.ari.store import Store, caller
from pbx.services import phone

OUTBOUND_GO = "pbx-outbound-go"
CODE_DIGITS = 16
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")


async def handle(call: Call, store: Store) -> None:
    number, destination = [*call.args, "", ""][:2]
    if not number.isdigit() or not _E164.fullmatch(destination):
        await call.hangup()
        return
    number_id = int(number)
    desk = await store(phone.find_desk, caller(call))
    if desk is None:
        await call.hangup()
        return
    if not await store(phone.authcode_needed, desk.actor, number_id, destination):
        await call.continue_to(OUTBOUND_GO, destination)
        return
    await call.answer()
    code = await call.read(*prompts.ENTER_CODE, max_digits=CODE_DIGITS)
    if await store(phone.check_authcode, desk.actor, number_id, code, destination):
        await call.continue_to(OUTBOUND_GO, destination)
        return
    await call.play(*prompts.WRONG_CODE, interruptible=False)
