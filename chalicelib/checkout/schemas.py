"""Request and answer models of checkout and `POST /subscriptions` (contract checkout-and-payments.md §5.1–§5.2).

The basket's rules 1–2 are checked in the contract's order by one model validator (they compare the fields with
each other: "at least one item" before any format, every id format before the count); the first failure answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from chalicelib.catalog.schemas import PlanRef
from chalicelib.core.ids import is_uuid
from chalicelib.core.validation import Answer, Body, Uuid, refuse
from chalicelib.invoices.schemas import Invoice, Purchase
from chalicelib.payments.schemas import as_text, code_text, given
from chalicelib.subscriptions.schemas import AddonSubscription, Subscription

MAX_ITEMS = 20
AT_LEAST_ONE = "At least one item required (plan_id, token_bundle_ids, or add_on_ids)"
TOO_MANY = f"Too many items (max {MAX_ITEMS} token bundles and {MAX_ITEMS} add-ons)"


@dataclass(frozen=True)
class Basket:
    """What a checkout buys: ids lower-cased, the currency upper-cased, codes trimmed; None when not given."""

    plan_id: str | None
    bundle_ids: tuple[str, ...]
    addon_ids: tuple[str, ...]
    currency: str | None
    payment_method_code: str | None


def basket_rules(data: dict[str, Any], *, plan_required: bool) -> dict[str, Any]:
    """Rules 1–2 of §5.1 in order; the basket's fields, normalized."""
    plan_id, bundles, addons = data.get("plan_id"), data.get("token_bundle_ids"), data.get("add_on_ids")
    if plan_required and not given(plan_id):
        raise refuse("plan_id is required")
    if not any(given(value) for value in (plan_id, bundles, addons)):
        raise refuse(AT_LEAST_ONE)
    if given(plan_id) and not is_uuid(plan_id):
        raise refuse("Invalid plan_id format")
    if given(bundles) and not isinstance(bundles, list):
        raise refuse("token_bundle_ids must be a list")
    if given(addons) and not isinstance(addons, list):
        raise refuse("add_on_ids must be a list")
    bundle_ids = list(bundles or [])
    addon_ids = list(addons or [])
    for value in bundle_ids:
        if not is_uuid(value):
            raise refuse(f"Invalid token_bundle_id: {as_text(value)}")
    for value in addon_ids:
        if not is_uuid(value):
            raise refuse(f"Invalid add_on_id: {as_text(value)}")
    if len(bundle_ids) > MAX_ITEMS or len(addon_ids) > MAX_ITEMS:
        raise refuse(TOO_MANY)
    seen: set[str] = set()
    for value in addon_ids:
        if value.lower() in seen:
            raise refuse(f"Duplicate add_on_id: {value}")
        seen.add(value.lower())
    currency = code_text(data.get("currency"))
    return {
        "plan_id": str(plan_id).lower() if given(plan_id) else None,
        "token_bundle_ids": [v.lower() for v in bundle_ids],
        "add_on_ids": [v.lower() for v in addon_ids],
        "currency": currency.upper() if currency is not None else None,
        "payment_method_code": code_text(data.get("payment_method_code")),
    }


PlanId = Annotated[Uuid, Field(description="The plan to subscribe to")]
BundleIds = Annotated[
    list[Uuid], Field(max_length=MAX_ITEMS, description="A repeated id buys that bundle again (one line per entry)")
]
AddonIds = Annotated[list[Uuid], Field(max_length=MAX_ITEMS, description="No repeats")]
Currency = Annotated[str | None, Field(description="Invoice currency (default: the plan's, else the default)")]
MethodCode = Annotated[str | None, Field(description="Payment method to record (default: the default method)")]


class CheckoutBody(Body):
    """`POST /user/checkout`: at least one of plan, bundles, add-ons; other keys are ignored."""

    plan_id: PlanId | None = None
    token_bundle_ids: BundleIds = Field(default_factory=list)
    add_on_ids: AddonIds = Field(default_factory=list)
    currency: Currency = None
    payment_method_code: MethodCode = None

    @model_validator(mode="before")
    @classmethod
    def _rules(cls, data: Any) -> Any:
        return basket_rules(data, plan_required=False) if isinstance(data, dict) else data

    def basket(self) -> Basket:
        return Basket(
            self.plan_id,
            tuple(self.token_bundle_ids),
            tuple(self.add_on_ids),
            self.currency,
            self.payment_method_code,
        )


class SubscribeBody(Body):
    """`POST /subscriptions`: checkout of a plan (and add-ons); token bundles are not part of it."""

    plan_id: PlanId
    add_on_ids: AddonIds = Field(default_factory=list)
    currency: Currency = None
    payment_method_code: MethodCode = None

    @model_validator(mode="before")
    @classmethod
    def _rules(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        basket = {key: data.get(key) for key in ("plan_id", "add_on_ids", "currency", "payment_method_code")}
        rules = basket_rules(basket, plan_required=True)
        del rules["token_bundle_ids"]
        return rules

    def basket(self) -> Basket:
        return Basket(self.plan_id, (), tuple(self.add_on_ids), self.currency, self.payment_method_code)


# --- answers ---------------------------------------------------------------------------------------------------


class NewSubscription(Subscription):
    """The subscription the checkout created (subscriptions.md §2.1), with its plan"""

    plan: PlanRef = Field(description="The plan bought")


class CheckoutAnswer(Answer):
    """The invoice and the purchases it bills; `subscription` and `trial_applied` only when a plan was bought"""

    invoice: Invoice
    subscription: NewSubscription | None = None
    trial_applied: bool | None = None
    token_bundles: list[Purchase]
    add_ons: list[AddonSubscription] = Field(description="The add-on subscriptions the checkout created")
    message: Literal["Checkout created. Awaiting payment.", "Checkout complete. Free plan activated."]
