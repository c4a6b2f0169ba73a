"""The one definition of a live number: what Asterisk routes calls to and serves from a phone.

A number is live once activated (Active or Pending: a Pending number is live with a
change on its way, R4) while its occupier has voice services (R2). Reserved numbers
and the numbers of an occupier without voice services exist only in the store. The
snapshot, the controller, the Stasis app and the voicemail mailer all ask here.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, select

from pbx.store.models import NumberStatus, Occupier, PhoneNumber


def is_live(number: PhoneNumber) -> bool:
    return number.status is not NumberStatus.RESERVED and number.occupier.voice_services_active


def live_clause() -> ColumnElement[bool]:
    """`is_live` as a WHERE clause on PhoneNumber (no join needed)."""
    voice = select(Occupier.id).where(Occupier.voice_services_active.is_(True))
    return and_(PhoneNumber.status != NumberStatus.RESERVED, PhoneNumber.occupier_id.in_(voice))


def is_personal(number: PhoneNumber) -> bool:
    """Live and not the main number: a number a person has, uses from a phone and changes (R5)."""
    return is_live(number) and not number.is_main


def personal_clause() -> ColumnElement[bool]:
    return and_(live_clause(), PhoneNumber.is_main.is_(False))
