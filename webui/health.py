"""`GET /healthz` (R46): no sign-in, no secrets; 200 when the store, AMI, ARI and the controller are there, else 503."""

from __future__ import annotations

from flask import Blueprint, jsonify

from pbx import health
from webui.store import state

bp = Blueprint("health", __name__)

DOWN = 503


@bp.get("/healthz")
def healthz():
    report = health.check(state().settings, state().sessions)
    return jsonify(report.as_dict()), 200 if report.ok else DOWN
