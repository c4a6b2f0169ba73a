"""R21 through the JSON API when another admin's change commits at the same moment: 400 with the rule, never 500."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from pbx.services import features
from pbx.services.actor import Actor
from pbx.store.db import transaction
from tests.web.conftest import ACME_ADMIN

FREE = "+442079460204"
OUTSIDE = "+447700900456"
WAIT_S = 30
SECOND_WAITS_S = 0.5  # the second admin's request has read the number and waits on the first's write lock


def test_r21_second_admin_at_the_same_moment_hears_the_rule(signed_in, factory, ids):
    number_id = ids.numbers[FREE]
    with transaction(factory) as session:
        features.update_features(session, Actor.system(), number_id, {"call_waiting": "off"})
    admin = signed_in(ACME_ADMIN)
    written, go = threading.Event(), threading.Event()

    def first_admin() -> None:
        with transaction(factory) as session:
            features.update_features(session, Actor.system("first admin"), number_id, {"forward_busy": OUTSIDE})
            session.flush()
            written.set()
            assert go.wait(WAIT_S)

    def second_admin():
        assert written.wait(WAIT_S)
        return admin.write("PATCH", f"/api/v1/numbers/{number_id}/features", {"call_waiting": True})

    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(first_admin)
        second = pool.submit(second_admin)
        time.sleep(SECOND_WAITS_S)
        go.set()
        first.result(WAIT_S)
        answer = second.result(WAIT_S)

    assert answer.status_code == 400, answer.get_data(as_text=True)
    assert answer.json["rule"] == "R21"
    assert "Forward on busy and call waiting exclude each other" in answer.json["error"]
