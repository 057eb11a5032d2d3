"""Stripe events in domain terms: every row of the event table of checkout-and-payments.md §10.4.

A webhook's object is a snapshot that names related objects by id only. Where the domain needs more — the card
saved by a Checkout Session (brand, last 4), the invoice of a charge, refund or dispute whose payload carries no
metadata of ours — it is read from Stripe through `Lookup` (the provider's SDK client), never guessed.

Which PaymentIntent events are ours: an off-session charge (renewal, trial conversion, dunning retry, upgrade)
and a manual-capture authorization carry `metadata.invoice_id`; the PaymentIntent behind a Checkout Session
carries `metadata.flow = checkout`, and its own `payment_intent.*` events are left to the session's events (the
session is the capture's reference).
"""

from __future__ import annotations

from typing import Any, Protocol

from chalicelib.payments.hosted import EventKind, ProviderEvent
from chalicelib.payments.outcomes import Payment
from chalicelib.payments.stripe.amounts import to_major

CODE = "stripe"
CHECKOUT_FLOW = "checkout"
OFF_SESSION_FLOW = "off_session"
AUTHORIZATION_FLOW = "authorization"


class Lookup(Protocol):
    """Reads of Stripe objects (plain dicts), by id."""

    def intent(self, intent_id: str) -> dict[str, Any]: ...

    def method(self, method_id: str) -> dict[str, Any]: ...

    def latest_refund(self, charge_id: str) -> dict[str, Any] | None: ...


def card_label(method: dict[str, Any]) -> str:
    card = method.get("card") or {}
    brand = str(card.get("brand") or "card")
    names = {"visa": "Visa", "mastercard": "Mastercard", "amex": "American Express", "discover": "Discover"}
    return f"{names.get(brand, brand.title())} •••• {card.get('last4', '????')}"


def saved_method(method: dict[str, Any] | None, customer: str | None) -> dict[str, Any] | None:
    """The method a later off-session charge can use (`{"provider", "reference", "customer", "label"}`)."""
    if not method or not method.get("id"):
        return None
    return {"provider": CODE, "reference": method["id"], "customer": customer, "label": card_label(method)}


def intent_saved_method(intent: dict[str, Any], lookup: Lookup) -> dict[str, Any] | None:
    """The card a PaymentIntent saved for off-session use, when it was asked to save one."""
    if intent.get("setup_future_usage") not in ("off_session", "on_session") or not intent.get("customer"):
        return None
    method = intent.get("payment_method")
    if isinstance(method, str):
        method = lookup.method(method)
    return saved_method(method, str(intent["customer"]))


def session_payment(session: dict[str, Any], lookup: Lookup) -> Payment:
    """The payment a paid Checkout Session captures with: reference = session id, transaction = its intent."""
    intent = session.get("payment_intent")
    if isinstance(intent, str):
        intent = lookup.intent(intent)
    intent = intent or {}
    saved = intent_saved_method(intent, lookup) if intent else None
    return Payment(CODE, str(session["id"]), intent.get("id"), saved, intent.get("id"))


def session_invoice(session: dict[str, Any]) -> str | None:
    return (session.get("metadata") or {}).get("invoice_id") or session.get("client_reference_id")


def translate(payload: dict[str, Any], lookup: Lookup) -> ProviderEvent:
    """A verified Stripe event as a `ProviderEvent`; event types of no consequence are `IGNORED`."""
    event_type = str(payload.get("type", ""))
    obj: dict[str, Any] = (payload.get("data") or {}).get("object") or {}
    event_id = str(payload.get("id", ""))
    handler = _HANDLERS.get(event_type)
    fields = handler(obj, lookup) if handler is not None else None
    if fields is None:
        return ProviderEvent(CODE, event_id, event_type, EventKind.IGNORED)
    return ProviderEvent(provider=CODE, event_id=event_id, event_type=event_type, **fields)


def _money(obj: dict[str, Any], amount_field: str) -> dict[str, Any]:
    currency = str(obj.get("currency") or "").upper()
    return {"amount": to_major(obj.get(amount_field), currency), "currency": currency}


def _session_paid(obj: dict[str, Any], lookup: Lookup) -> dict[str, Any] | None:
    if obj.get("payment_status") != "paid":
        return None  # `unpaid`: an asynchronous method is still pending
    return {
        "kind": EventKind.CAPTURED,
        "invoice_id": session_invoice(obj),
        "session_id": obj.get("id"),
        "payment": session_payment(obj, lookup),
        **_money(obj, "amount_total"),
    }


def _session_async_paid(obj: dict[str, Any], lookup: Lookup) -> dict[str, Any] | None:
    return _session_paid({**obj, "payment_status": "paid"}, lookup)


def _session_async_failed(obj: dict[str, Any], lookup: Lookup) -> dict[str, Any]:
    return {
        "kind": EventKind.PAYMENT_FAILED,
        "invoice_id": session_invoice(obj),
        "session_id": obj.get("id"),
        "error_code": "async_payment_failed",
        "error_message": "The asynchronous payment failed",
        **_money(obj, "amount_total"),
    }


def _session_expired(obj: dict[str, Any], lookup: Lookup) -> dict[str, Any]:
    return {"kind": EventKind.SESSION_EXPIRED, "invoice_id": session_invoice(obj), "session_id": obj.get("id")}


def _ours(intent: dict[str, Any]) -> str | None:
    """The invoice of a PaymentIntent this product charged directly (off-session or an authorization)."""
    metadata = intent.get("metadata") or {}
    if metadata.get("flow") == CHECKOUT_FLOW:
        return None
    invoice_id = metadata.get("invoice_id")
    return str(invoice_id) if invoice_id else None


def _off_session(intent: dict[str, Any]) -> bool:
    return (intent.get("metadata") or {}).get("flow") == OFF_SESSION_FLOW


def _capturable(obj: dict[str, Any], lookup: Lookup) -> dict[str, Any] | None:
    invoice_id = _ours(obj)
    if invoice_id is None or obj.get("status") != "requires_capture":
        return None
    return {"kind": EventKind.AUTHORIZED, "invoice_id": invoice_id, "intent_id": obj.get("id"), **_money(obj, "amount")}


def _intent_succeeded(obj: dict[str, Any], lookup: Lookup) -> dict[str, Any] | None:
    invoice_id = _ours(obj)
    if invoice_id is None:
        return None
    off_session = _off_session(obj)
    saved = _charged_method(obj.get("payment_method"), obj, lookup) if off_session else None
    payment = Payment(
        CODE, str(obj["id"]), obj.get("latest_charge"), saved or intent_saved_method(obj, lookup), str(obj["id"])
    )
    return {
        "kind": EventKind.CAPTURED,
        "invoice_id": invoice_id,
        "intent_id": obj.get("id"),
        "payment": payment,
        "off_session": off_session,
        **_money(obj, "amount_received"),
    }


def _charged_method(method: Any, intent: dict[str, Any], lookup: Lookup) -> dict[str, Any] | None:
    """The saved method an off-session charge used (it stays saved)."""
    if isinstance(method, str):
        method = lookup.method(method)
    return saved_method(method, intent.get("customer"))


def _intent_failed(obj: dict[str, Any], lookup: Lookup) -> dict[str, Any] | None:
    invoice_id = _ours(obj)
    if invoice_id is None:
        return None
    error = obj.get("last_payment_error") or {}
    return {
        "kind": EventKind.PAYMENT_FAILED,
        "invoice_id": invoice_id,
        "intent_id": obj.get("id"),
        "error_code": error.get("decline_code") or error.get("code") or "payment_failed",
        "error_message": error.get("message") or "The payment failed",
        "off_session": _off_session(obj),
        **_money(obj, "amount"),
    }


def _intent_canceled(obj: dict[str, Any], lookup: Lookup) -> dict[str, Any] | None:
    invoice_id = _ours(obj)
    if invoice_id is None:
        return None
    return {
        "kind": EventKind.RELEASED,
        "invoice_id": invoice_id,
        "intent_id": obj.get("id"),
        "details": {"cancellation_reason": obj.get("cancellation_reason")},
        **_money(obj, "amount"),
    }


def _invoice_of(obj: dict[str, Any], lookup: Lookup) -> str | None:
    """The invoice a charge, refund or dispute belongs to: its metadata, else its PaymentIntent's (re-read)."""
    invoice_id = (obj.get("metadata") or {}).get("invoice_id")
    if invoice_id:
        return str(invoice_id)
    intent_id = obj.get("payment_intent")
    if isinstance(intent_id, str) and intent_id:
        found = (lookup.intent(intent_id).get("metadata") or {}).get("invoice_id")
        return str(found) if found else None
    return None


def _charge_refunded(obj: dict[str, Any], lookup: Lookup) -> dict[str, Any]:
    money = _money(obj, "amount_refunded")
    # The charge carries its refunds only when expanded (API versions since 2022-11-15 do not by default).
    refunds = ((obj.get("refunds") or {}).get("data")) or []
    latest = refunds[0] if refunds else (lookup.latest_refund(str(obj["id"])) if obj.get("id") else None)
    return {
        "kind": EventKind.REFUNDED,
        "invoice_id": _invoice_of(obj, lookup),
        "intent_id": obj.get("payment_intent"),
        "refunded_total": money["amount"],
        "currency": money["currency"],
        "refund_id": latest.get("id") if latest else None,
        "details": {"charge": obj.get("id")},
    }


def _refund_updated(obj: dict[str, Any], lookup: Lookup) -> dict[str, Any] | None:
    if obj.get("status") != "canceled":
        return None
    money = _money(obj, "amount")
    return {
        "kind": EventKind.REFUND_REVERSED,
        "invoice_id": _invoice_of(obj, lookup),
        "intent_id": obj.get("payment_intent"),
        "refund_id": obj.get("id"),
        "refund_amount": money["amount"],
        "currency": money["currency"],
        "details": {"charge": obj.get("charge")},
    }


def _dispute(obj: dict[str, Any], lookup: Lookup) -> dict[str, Any]:
    return {
        "kind": EventKind.DISPUTED,
        "invoice_id": _invoice_of(obj, lookup),
        "intent_id": obj.get("payment_intent"),
        "details": {"dispute_id": obj.get("id"), "reason": obj.get("reason"), "status": obj.get("status")},
        **_money(obj, "amount"),
    }


def legacy_subscription(invoice: dict[str, Any]) -> str | None:
    """A Stripe invoice's subscription: `parent.subscription_details.subscription` (current API versions) or the
    older top-level `subscription`."""
    parent = invoice.get("parent") or {}
    details = parent.get("subscription_details") or {}
    found = details.get("subscription") or invoice.get("subscription")
    if isinstance(found, dict):
        found = found.get("id")
    return str(found) if found else None


def _legacy_paid(obj: dict[str, Any], lookup: Lookup) -> dict[str, Any] | None:
    subscription = legacy_subscription(obj)
    if subscription is None or obj.get("billing_reason") == "subscription_create":
        return None
    return {
        "kind": EventKind.LEGACY_RENEWED,
        "provider_subscription_id": subscription,
        "provider_invoice_id": obj.get("id"),
        "intent_id": obj.get("payment_intent"),
        "details": {"billing_reason": obj.get("billing_reason"), "customer": obj.get("customer")},
        **_money(obj, "amount_paid"),
    }


def _legacy_failed(obj: dict[str, Any], lookup: Lookup) -> dict[str, Any] | None:
    subscription = legacy_subscription(obj)
    if subscription is None:
        return None
    return {
        "kind": EventKind.LEGACY_PAST_DUE,
        "provider_subscription_id": subscription,
        "provider_invoice_id": obj.get("id"),
        "error_code": "invoice_payment_failed",
        "error_message": "Stripe could not collect the subscription invoice",
        **_money(obj, "amount_due"),
    }


def _legacy_deleted(obj: dict[str, Any], lookup: Lookup) -> dict[str, Any]:
    return {
        "kind": EventKind.LEGACY_CANCELLED,
        "provider_subscription_id": obj.get("id"),
        "details": {"customer": obj.get("customer")},
    }


_HANDLERS = {
    "checkout.session.completed": _session_paid,
    "checkout.session.async_payment_succeeded": _session_async_paid,
    "checkout.session.async_payment_failed": _session_async_failed,
    "checkout.session.expired": _session_expired,
    "payment_intent.amount_capturable_updated": _capturable,
    "payment_intent.succeeded": _intent_succeeded,
    "payment_intent.payment_failed": _intent_failed,
    "payment_intent.canceled": _intent_canceled,
    "charge.refunded": _charge_refunded,
    "refund.updated": _refund_updated,
    "charge.dispute.created": _dispute,
    "invoice.paid": _legacy_paid,
    "invoice.payment_failed": _legacy_failed,
    "customer.subscription.deleted": _legacy_deleted,
}
