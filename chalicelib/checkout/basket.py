"""The checkout body (contract checkout-and-payments.md §5.1), checked in the contract's order (rules 1–2)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from chalicelib.core.errors import BadRequest
from chalicelib.core.ids import is_uuid

MAX_ITEMS = 20


@dataclass(frozen=True)
class Basket:
    plan_id: str | None
    bundle_ids: tuple[str, ...]
    addon_ids: tuple[str, ...]
    currency: str | None
    payment_method_code: str | None


def _given(value: Any) -> bool:
    return value is not None and value != []


def parse_basket(body: dict[str, Any], *, plan_required: bool = False) -> Basket:
    plan_id, bundles, addons = body.get("plan_id"), body.get("token_bundle_ids"), body.get("add_on_ids")
    if plan_required and not _given(plan_id):
        raise BadRequest("plan_id is required")
    if not any(_given(value) for value in (plan_id, bundles, addons)):
        raise BadRequest("At least one item required (plan_id, token_bundle_ids, or add_on_ids)")
    if _given(plan_id) and not is_uuid(plan_id):
        raise BadRequest("Invalid plan_id format")
    if _given(bundles) and not isinstance(bundles, list):
        raise BadRequest("token_bundle_ids must be a list")
    if _given(addons) and not isinstance(addons, list):
        raise BadRequest("add_on_ids must be a list")
    bundle_ids = list(bundles or [])
    addon_ids = list(addons or [])
    for value in bundle_ids:
        if not is_uuid(value):
            raise BadRequest(f"Invalid token_bundle_id: {_as_text(value)}")
    for value in addon_ids:
        if not is_uuid(value):
            raise BadRequest(f"Invalid add_on_id: {_as_text(value)}")
    if len(bundle_ids) > MAX_ITEMS or len(addon_ids) > MAX_ITEMS:
        raise BadRequest(f"Too many items (max {MAX_ITEMS} token bundles and {MAX_ITEMS} add-ons)")
    seen: set[str] = set()
    for value in addon_ids:
        if value.lower() in seen:
            raise BadRequest(f"Duplicate add_on_id: {value}")
        seen.add(value.lower())
    currency = _code(body.get("currency"))
    return Basket(
        plan_id=str(plan_id).lower() if _given(plan_id) else None,
        bundle_ids=tuple(v.lower() for v in bundle_ids),
        addon_ids=tuple(v.lower() for v in addon_ids),
        currency=currency.upper() if currency is not None else None,
        payment_method_code=_code(body.get("payment_method_code")),
    )


def _code(value: Any) -> str | None:
    """A code field (currency, payment method): trimmed; null, `[]` or blank mean "not given". Any other JSON value
    is kept as its JSON text, so the rule that checks the code (3 or 8) refuses it by name instead of ignoring it."""
    if not _given(value):
        return None
    if isinstance(value, str):
        return value.strip() or None
    return _as_text(value)


def _as_text(value: Any) -> str:
    """How a client's value is named in an error: a string as sent, anything else in JSON (`null`, `5`, `false`)."""
    return value if isinstance(value, str) else json.dumps(value)
