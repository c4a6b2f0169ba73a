"""R41: whose lamp shows a voicemail box: the handset the number is logged in to.

Asked by the node agents' message lamp (pbx/asterisk/lamp.py) when a box changes on
their node. Only a personal number (live, not main: R2, R5, R6) has a box a handset
shows; a number logged in nowhere lights no lamp.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from pbx.services.live import is_personal
from pbx.store.models import PhoneNumber


def handset_showing(session: Session, number_id: int) -> str | None:
    """R41: the phone ID whose lamp follows this number's box, or None."""
    number = session.get(PhoneNumber, number_id)
    if number is None or number.handset is None or not is_personal(number):
        return None
    return number.handset.phone_id
