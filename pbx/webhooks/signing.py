"""The signature a webhook receiver checks: `X-PBX-Signature: t=<unix seconds>,v1=<hex>`.

v1 is HMAC-SHA256 over "<t>.<body>" keyed by the webhook's secret. The time is inside
the signed text, so a receiver that refuses old `t` values cannot be replayed to.
"""

from __future__ import annotations

import hashlib
import hmac

HEADER = "X-PBX-Signature"
TOLERANCE_S = 300


def sign(secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, body: bytes, header: str, now: float, tolerance: float = TOLERANCE_S) -> bool:
    """What a receiver does (the tests, and the README's example)."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    if not parts.get("t", "").isdigit() or abs(now - int(parts["t"])) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, body, int(parts["t"])), f"t={parts['t']},v1={parts.get('v1', '')}")
