"""R42: the operator sets each site's voice portal number through the JSON API; nobody else can."""

from __future__ import annotations

from tests.web.conftest import ACME_ADMIN, OPERATOR

PORTAL = "+442079460999"


def test_r42_the_operator_sets_and_clears_a_sites_portal_number(signed_in, ids):
    operator = signed_in(OPERATOR)
    site = ids.sites["London - Old Street"]

    done = operator.write("PUT", f"/api/v1/sites/{site}/portal-number", {"number": "+44 20 7946 0999"})
    assert done.status_code == 200, done.json
    assert done.json["site"]["portal_number"] == PORTAL
    listed = {s["site"]: s["portal_number"] for s in operator.get("/api/v1/portal-numbers").json["sites"]}
    assert listed["London - Old Street"] == PORTAL

    other = ids.sites["London - King's Cross"]
    taken = operator.write("PUT", f"/api/v1/sites/{other}/portal-number", {"number": PORTAL})
    assert taken.status_code == 400 and "already the portal number" in taken.json["error"]
    wrong = operator.write("PUT", f"/api/v1/sites/{other}/portal-number", {"number": "12"})
    assert wrong.status_code == 400
    allocated = operator.write("PUT", f"/api/v1/sites/{other}/portal-number", {"number": "+442079460201"})
    assert allocated.status_code == 400 and "allocated" in allocated.json["error"]

    cleared = operator.write("DELETE", f"/api/v1/sites/{site}/portal-number")
    assert cleared.status_code == 200 and cleared.json["site"]["portal_number"] is None


def test_r42_an_occupier_admin_cannot_set_a_portal_number(signed_in, ids):
    admin = signed_in(ACME_ADMIN)
    site = ids.sites["London - Old Street"]
    refused = admin.write("PUT", f"/api/v1/sites/{site}/portal-number", {"number": PORTAL})
    assert refused.status_code in (403, 404)
    assert admin.get("/api/v1/portal-numbers").status_code in (403, 404)
