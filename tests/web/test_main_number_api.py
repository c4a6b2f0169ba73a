"""R35 in the JSON API and the operator's call-handling page: operator only, every refusal
a clear 400 that changes nothing."""

from __future__ import annotations

import html
import io
import subprocess

from tests.web.conftest import ACME_ADMIN, OPERATOR

MAIN = "+442079460100"
WEEK = {"mon": ["09:00-12:30", "13:30-17:00"], "fri": ["09:00-16:00"]}


def tone(tmp_path) -> bytes:
    path = tmp_path / "tone.wav"
    subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", str(path), "synth", "1", "sine", "1000"], check=True)
    return path.read_bytes()


def test_r35_api_sets_hours_hunt_and_out_of_hours(signed_in, ids):
    operator = signed_in(OPERATOR)
    site = ids.sites["London - Old Street"]
    saved = operator.write("PUT", f"/api/v1/sites/{site}/hours", {"timezone": "Europe/London", "weekly": WEEK})
    assert saved.status_code == 200, saved.get_json()
    assert saved.get_json()["hours"]["weekly"]["mon"] == ["09:00-12:30", "13:30-17:00"]
    main = ids.numbers[MAIN]
    hunt = operator.write(
        "PUT",
        f"/api/v1/main-numbers/{main}/hunt",
        {"strategy": "in_order", "members": [{"extension": "201", "ring_seconds": 10}, {"extension": "202"}]},
    )
    assert hunt.status_code == 200, hunt.get_json()
    assert hunt.get_json()["handling"]["members"] == [
        {"extension": "201", "ring_seconds": 10},
        {"extension": "202", "ring_seconds": 20},
    ]
    ooh = operator.write("PUT", f"/api/v1/main-numbers/{main}/out-of-hours", {"destination": "+447400123456"})
    assert ooh.status_code == 200 and ooh.get_json()["handling"]["out_of_hours"] == "+447400123456"
    shown = operator.get(f"/api/v1/main-numbers/{main}/handling").get_json()["handling"]
    assert shown["hours"]["timezone"] == "Europe/London" and shown["strategy"] == "in_order"


def test_r35_api_refusals_are_400s_that_change_nothing(signed_in, ids):
    operator = signed_in(OPERATOR)
    site, main = ids.sites["London - Old Street"], ids.numbers[MAIN]
    bad_zone = operator.write("PUT", f"/api/v1/sites/{site}/hours", {"timezone": "Nowhere/Else", "weekly": WEEK})
    assert bad_zone.status_code == 400 and "not a known time zone" in str(bad_zone.get_json())
    overlap = operator.write(
        "PUT", f"/api/v1/sites/{site}/hours", {"timezone": "UTC", "weekly": {"tue": ["09:00-12:00", "10:00-11:00"]}}
    )
    assert overlap.status_code == 400 and "overlap" in str(overlap.get_json())
    assert operator.get(f"/api/v1/sites/{site}/hours").get_json()["hours"] is None
    other = operator.write(
        "PUT", f"/api/v1/main-numbers/{main}/hunt", {"strategy": "ring_all", "members": [{"extension": "501"}]}
    )
    assert other.status_code == 400 and "is not an extension of Acme Ltd" in str(other.get_json())
    premium = operator.write("PUT", f"/api/v1/main-numbers/{main}/out-of-hours", {"destination": "+449098790000"})
    assert premium.status_code == 400 and "not allowed for Acme Ltd" in str(premium.get_json())
    junk = operator.client.put(
        f"/api/v1/main-numbers/{main}/greeting", data=b"not audio at all", headers={"X-CSRFToken": operator.token}
    )
    assert junk.status_code == 400 and "not a WAV or MP3" in str(junk.get_json())
    shown = operator.get(f"/api/v1/main-numbers/{main}/handling").get_json()["handling"]
    assert shown["members"] == [] and shown["out_of_hours"] == "voicemail" and shown["greeting"] is None


def test_r35_api_greeting_upload(signed_in, ids, tmp_path):
    operator = signed_in(OPERATOR)
    main = ids.numbers[MAIN]
    answer = operator.client.put(
        f"/api/v1/main-numbers/{main}/greeting",
        data={"file": (io.BytesIO(tone(tmp_path)), "tone.wav")},
        headers={"X-CSRFToken": operator.token},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 200, answer.get_json()
    assert len(answer.get_json()["handling"]["greeting"]) == 12


def test_r35_only_the_operator_reaches_call_handling(signed_in, ids):
    admin = signed_in(ACME_ADMIN)
    main = ids.numbers[MAIN]
    assert admin.get(f"/api/v1/main-numbers/{main}/handling").status_code == 403
    assert admin.write("PUT", f"/api/v1/main-numbers/{main}/hunt", {"strategy": "ring_all"}).status_code == 403
    assert admin.get(f"/operator/main-numbers/{main}").status_code == 403


def test_r35_console_links_to_the_call_handling_page_which_saves_and_refuses(signed_in, ids, tmp_path):
    operator = signed_in(OPERATOR)
    main = ids.numbers[MAIN]
    console = operator.get("/operator").get_data(as_text=True)
    assert f"/operator/main-numbers/{main}" in console
    page = operator.get(f"/operator/main-numbers/{main}")
    assert page.status_code == 200 and MAIN in page.get_data(as_text=True)
    done = operator.post_form(
        f"/operator/main-numbers/{main}/hunt",
        {"strategy": "ring_all", "members": "201:15, 202", "out_of_hours": "voicemail"},
    )
    assert done.status_code == 303
    assert 'value="201:15, 202:20"' in operator.get(f"/operator/main-numbers/{main}").get_data(as_text=True)
    refused = operator.post_form(
        f"/operator/main-numbers/{main}/hours", {"timezone": "Europe/London", "hours_mon": "09:00-12:00, 11:00-13:00"}
    )
    assert refused.status_code == 400
    assert "overlap" in html.unescape(refused.get_data(as_text=True))
    saved = operator.post_form(
        f"/operator/main-numbers/{main}/hours",
        {"timezone": "Europe/London", "hours_mon": "09:00-17:00", "closed_days": "2026-12-25"},
    )
    assert saved.status_code == 303
    uploaded = operator.client.post(
        f"/operator/main-numbers/{main}/greeting",
        data={"greeting": (io.BytesIO(tone(tmp_path)), "tone.wav"), "csrf_token": operator.token},
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 303
    assert "A greeting is set" in operator.get(f"/operator/main-numbers/{main}").get_data(as_text=True)
