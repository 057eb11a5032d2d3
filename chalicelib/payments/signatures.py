"""`t=<unix>,v1=<hex>` signatures over `"<t>.<raw body>"` (HMAC-SHA256), as Stripe signs (events.md §3.2).

Used to verify the generic payment webhook and, for outbound webhooks, to sign deliveries.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

TOLERANCE_SECONDS = 300


def sign(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


def verify(
    value: str | None, body: bytes, secrets: Iterable[str], now: int, tolerance: int = TOLERANCE_SECONDS
) -> bool:
    """True when `value` carries a timestamp within `tolerance` and a `v1` matching any of the secrets."""
    if not value:
        return False
    timestamp: int | None = None
    candidates: list[str] = []
    for part in value.split(","):
        name, _, content = part.strip().partition("=")
        if name == "t":
            try:
                timestamp = int(content)
            except ValueError:
                return False
        elif name == "v1" and content:
            candidates.append(content)
    if timestamp is None or not candidates or abs(now - timestamp) > tolerance:
        return False
    expected = [sign(secret, timestamp, body) for secret in secrets]
    return any(hmac.compare_digest(candidate, wanted) for candidate in candidates for wanted in expected)
