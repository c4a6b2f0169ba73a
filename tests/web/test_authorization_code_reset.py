"""R40: an admin unlocks a number's authorization code from the JSON API; its user cannot."""

from __future__ import annotations

from sqlalchemy import update

from pbx.store import PhoneNumber
from pbx.store.db import transaction
from tests.web.conftest import ACME_ADMIN, ALICE

ALICE_NUMBER = "+442079460201"


def test_r40_an_admin_resets_a_locked_code_and_a_user_cannot(signed_in, factory, ids):
    number_id = ids.numbers[ALICE_NUMBER]
    with transaction(factory) as session:
        session.execute(
            update(PhoneNumber).where(PhoneNumber.id == number_id).values(failed_code_count=3, code_locked=True)
        )
    url = f"/api/v1/numbers/{number_id}/authorization-code-reset"

    refused = signed_in(ALICE).write("POST", url)
    answer = signed_in(ACME_ADMIN).write("POST", url)

    assert refused.status_code == 403
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.json["message"] == f"The authorization code of {ALICE_NUMBER} is unlocked"
    with transaction(factory) as session:
        row = session.get(PhoneNumber, number_id)
        assert (row.failed_code_count, row.code_locked) == (0, False)
