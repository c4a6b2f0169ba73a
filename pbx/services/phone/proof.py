"""R16: proof that a number's PIN was keyed right on a handset during this call.

A `PinProof` is minted only by `check_pin` (and renewed by `set_custom_pin`), sealed
with a key that lives only in this process, and expires after the longest call, so
the Stasis app cannot make one up, edit one for another number or keep one for
later: what a PIN opens (voicemail, a custom PIN, hot desk login) requires one.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from pbx.services.actor import Actor
from pbx.services.errors import Forbidden

# Longer than any call spends in the Stasis app (pbx.asterisk.ari.app.CALL_MAX_S).
PROOF_MAX_S = 600.0
_KEY = secrets.token_bytes(32)


@dataclass(frozen=True)
class PinProof:
    phone_id: str
    occupier_id: int
    number_id: int
    new_pin_needed: bool  # the default PIN opened it: a custom PIN must be chosen first (R17)
    issued: float
    seal: str

    @property
    def actor(self) -> Actor:
        """The person at the handset, now acting for the proved number."""
        return Actor.handset(self.phone_id, self.occupier_id, self.number_id)


def _seal(phone_id: str, occupier_id: int, number_id: int, new_pin_needed: bool, issued: float) -> str:
    message = f"{phone_id}|{occupier_id}|{number_id}|{int(new_pin_needed)}|{issued!r}".encode()
    return hmac.new(_KEY, message, hashlib.sha256).hexdigest()


def mint(phone_id: str, occupier_id: int, number_id: int, *, new_pin_needed: bool) -> PinProof:
    issued = time.monotonic()
    return PinProof(
        phone_id,
        occupier_id,
        number_id,
        new_pin_needed,
        issued,
        _seal(phone_id, occupier_id, number_id, new_pin_needed, issued),
    )


def proved_actor(actor: Actor, proof: PinProof, *, for_new_pin: bool = False) -> Actor:
    """The actor for the proved number, if `proof` is genuine, fresh and this handset's own.

    A proof from the default PIN (R17) is good only for choosing the custom PIN (`for_new_pin`).
    """
    expected = _seal(proof.phone_id, proof.occupier_id, proof.number_id, proof.new_pin_needed, proof.issued)
    genuine = hmac.compare_digest(expected, proof.seal)
    fresh = 0 <= time.monotonic() - proof.issued <= PROOF_MAX_S
    if not (genuine and fresh and actor.is_handset and actor.phone_id == proof.phone_id):
        raise Forbidden("The PIN was not proved on this call")
    if proof.new_pin_needed and not for_new_pin:
        raise Forbidden("A custom PIN must be chosen first")
    return proof.actor
