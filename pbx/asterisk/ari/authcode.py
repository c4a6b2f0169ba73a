"""R22: an outgoing external call from a number with an authorization code needs the code.

pbx-outbound sends such a call here with Stasis(pbx,authcode,<number id>,<E.164>).
The code is keyed as digits and checked against the store's argon2 hash; on
success the call continues at pbx-outbound-go (extension = the E.164 number, so
the dialplan's own variables, PBX_SELF included, stay as they were); a wrong or
missing code gets a short message and the call ends. Every attempt is audited.
Emergency numbers never reach this (pbx-from-handset sends them out first); a
site's own emergency number that comes this way still goes out without a code.
"""
from __future__ import annotations

import re

import phonenumbers

from pbx.asterisk.ari import prompts, store_ops
from pbx.asterisk.ari.channel import Call
from pbx.asterisk.ari.store_ops import Store

OUTBOUND_GO = "pbx-outbound-go"
CODE_DIGITS = 16
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")


def is_emergency(e164: str, emergency: frozenset[str]) -> bool:
    try:
        national = str(phonenumbers.parse(e164, None).national_number)
    except phonenumbers.NumberParseException:
        return False
    return national in emergency


async def handle(call: Call, store: Store) -> None:
    number, destination = (call.args + ["", ""])[:2]
    if not number.isdigit() or not _E164.fullmatch(destination):
        await call.hangup()
        return
    number_id = int(number)
    desk = await store(store_ops.find_desk, call.endpoint)
    if desk is not None and is_emergency(destination, desk.emergency) \
            or not await store(store_ops.authorization_code_needed, number_id):
        await call.continue_to(OUTBOUND_GO, destination)
        return
    await call.answer()
    code = await call.read(*prompts.ENTER_CODE, max_digits=CODE_DIGITS)
    if await store(store_ops.check_authorization_code, call.endpoint, number_id, code, destination):
        await call.continue_to(OUTBOUND_GO, destination)
        return
    await call.play(*prompts.WRONG_CODE, interruptible=False)
