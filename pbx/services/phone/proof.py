"""R16, R42: proof that a number's PIN was keyed right on a handset (or at the voice portal) during this call.

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
    portal_site_id: int | None = None  # R42: proved at this site's voice portal, not at a handset

    @property
    def actor(self) -> Actor:
        """The person at the handset (or the portal's caller), now acting for the proved number."""
        if self.portal_site_id is not None:
            return Actor.portal(self.portal_site_id, self.occupier_id, self.number_id, self.phone_id)
        return Actor.handset(self.phone_id, self.occupier_id, self.number_id)


def _seal(
    phone_id: str, occupier_id: int, number_id: int, new_pin_needed: bool, issued: float, portal: int | None
) -> str:
    message = f"{phone_id}|{occupier_id}|{number_id}|{int(new_pin_needed)}|{issued!r}|{portal}".encode()
    return hmac.new(_KEY, message, hashlib.sha256).hexdigest()


def mint(
    phone_id: str, occupier_id: int, number_id: int, *, new_pin_needed: bool, portal_site_id: int | None = None
) -> PinProof:
    """phone_id: the handset the PIN was keyed on; with portal_site_id, the portal's caller ("" from outside)."""
    issued = time.monotonic()
    return PinProof(
        phone_id,
        occupier_id,
        number_id,
        new_pin_needed,
        issued,
        _seal(phone_id, occupier_id, number_id, new_pin_needed, issued, portal_site_id),
        portal_site_id,
    )


def renew(proof: PinProof, *, new_pin_needed: bool) -> PinProof:
    """A fresh proof for the same caller and number (after the custom PIN was chosen)."""
    return mint(
        proof.phone_id,
        proof.occupier_id,
        proof.number_id,
        new_pin_needed=new_pin_needed,
        portal_site_id=proof.portal_site_id,
    )


def _same_caller(actor: Actor, proof: PinProof) -> bool:
    """The proof is this caller's: the same handset, or the same site's portal."""
    if proof.portal_site_id is not None:
        return actor.is_portal and actor.portal_site_id == proof.portal_site_id
    return actor.is_handset and actor.phone_id == proof.phone_id


def proved_actor(actor: Actor, proof: PinProof, *, for_new_pin: bool = False) -> Actor:
    """The actor for the proved number, if `proof` is genuine, fresh and this handset's own.

    A proof from the default PIN (R17) is good only for choosing the custom PIN (`for_new_pin`).
    """
    expected = _seal(
        proof.phone_id, proof.occupier_id, proof.number_id, proof.new_pin_needed, proof.issued, proof.portal_site_id
    )
    genuine = hmac.compare_digest(expected, proof.seal)
    fresh = 0 <= time.monotonic() - proof.issued <= PROOF_MAX_S
    if not (genuine and fresh and _same_caller(actor, proof)):
        raise Forbidden("The PIN was not proved on this call")
    if proof.new_pin_needed and not for_new_pin:
        raise Forbidden("A custom PIN must be chosen first")
    return proof.actor
