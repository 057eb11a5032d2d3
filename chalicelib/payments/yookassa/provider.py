"""The YooKassa provider (checkout-and-payments.md §10.6, §6.3, §7, §10.7) over the official SDK.

A session is a YooKassa payment with a redirect confirmation: `capture: true` takes the money when the payer pays,
`capture: false` (manual capture) holds it in `waiting_for_capture` until `capture_authorized` or `release`.
Recurring invoices ask YooKassa to save the card (`save_payment_method`); the saved method's id is what renewals,
trial conversion, dunning retries and upgrades charge off-session (`payment_method_id`).

Notifications are unsigned: `verify_webhook` trusts only a source address inside the configured `allowed_ips`,
and `translate` re-fetches the payment or refund by id, so the object YooKassa holds — never the notification's
body — decides. A notification has no id of its own: the event id is `<event>:<object id>` (one per state change,
since each event happens once per object).

Payment statuses → session status: `succeeded` paid, `waiting_for_capture` pending (authorized), `pending` unpaid,
`canceled` expired. Money goes out as YooKassa's `{"value": "10.00", "currency": …}` from the invoice's exact
Decimal total (never a float of ours) and comes back as Decimal.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from chalicelib.core.money import round_money
from chalicelib.payments.hosted import (
    Buyer,
    EventKind,
    HostedSession,
    InvalidWebhook,
    ProviderError,
    ProviderEvent,
    ReturnUrls,
    SessionState,
    SessionStatus,
)
from chalicelib.payments.outcomes import (
    Payment,
    ProviderCaptureFailed,
    ProviderRefundFailed,
    RefundKeyInUse,
    SavedMethodCharge,
)
from chalicelib.payments.yookassa import client

if TYPE_CHECKING:
    from chalicelib.invoices.models import InvoiceItem

CODE = "yookassa"
SESSION_STATUS: dict[str, SessionStatus] = {
    "succeeded": "paid",
    "waiting_for_capture": "pending",
    "pending": "unpaid",
    "canceled": "expired",
}
# Cancellations that end a hold rather than a payer's attempt: the authorization is released (§6.3).
RELEASE_REASONS = ("canceled_by_merchant", "expired_on_capture")
PAYMENT_EVENTS = ("payment.succeeded", "payment.waiting_for_capture", "payment.canceled")
REFUND_EVENTS = ("refund.succeeded",)
REFUSALS = (400, 404)  # YooKassa refusing a request; 401/403 (keys) and 5xx (outage) stay provider errors
UNTRUSTED = "Untrusted notification source"
INVALID = "Invalid notification"
# ISO 4217 currencies without minor units, for a currency the catalog does not list.
ZERO_DECIMAL = frozenset({"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV"})


class YookassaProvider:
    code = CODE

    # --- sessions ----------------------------------------------------------------------------------------------

    def create_session(
        self, invoice: InvoiceItem, buyer: Buyer, urls: ReturnUrls, idempotency_key: str, *, manual_capture: bool
    ) -> HostedSession:
        """A payment with a redirect confirmation for the whole invoice (`Idempotence-Key` = the caller's key).

        YooKassa has one return URL for both outcomes and no customer object: the buyer comes back to `urls.success`
        whether they paid or not (the session status tells which), and `customer_id` stays None."""
        from chalicelib.payments.providers.sandbox import has_recurring_lines

        params: dict[str, Any] = {
            "amount": _amount(invoice.total_amount, invoice.currency),
            "confirmation": {"type": "redirect", "return_url": urls.success},
            "capture": not manual_capture,
            "description": f"Invoice {invoice.invoice_number}"[:128],
            "metadata": _metadata(invoice, buyer.user_id),
        }
        if has_recurring_lines(invoice):
            params["save_payment_method"] = True
        payment = client.call(lambda sdk: _plain(sdk.Payment.create(params, idempotency_key)))
        url = (payment.get("confirmation") or {}).get("confirmation_url")
        return HostedSession(
            session_id=str(payment["id"]),
            session_url=url,
            payment_intent_id=str(payment["id"]) if manual_capture else None,
            capture_method="manual" if manual_capture else None,
        )

    def session_state(self, session_id: str) -> SessionState:
        payment = _find_payment(session_id)
        status = SESSION_STATUS.get(str(payment.get("status")), "unpaid")
        value, currency = _money(payment)
        return SessionState(
            status=status,
            amount_minor=_minor(value, currency),
            currency=currency,
            invoice_id=_invoice_id(payment),
            payment=_payment_of(payment) if status == "paid" else None,
            authorized_intent=str(payment["id"]) if status == "pending" else None,
        )

    def expire_session(self, session_id: str) -> None:
        """Cancel an open hold; a payment still waiting for its payer cannot be cancelled at YooKassa (it lapses
        by itself), and a finished one has nothing to expire."""
        payment = _find_payment(session_id)
        if payment.get("status") == "waiting_for_capture":
            client.call(lambda sdk: sdk.Payment.cancel(session_id, f"{session_id}:expire"))

    # --- money movements ---------------------------------------------------------------------------------------

    def charge_saved(
        self, invoice: InvoiceItem, saved_method: dict[str, Any], idempotency_key: str
    ) -> SavedMethodCharge:
        """An autopayment of the saved method (`payment_method_id`), captured at once, under the caller's
        `<invoice id>:<attempt>` key: the same key again answers the same payment and takes no money twice."""
        params: dict[str, Any] = {
            "amount": _amount(invoice.total_amount, invoice.currency),
            "capture": True,
            "payment_method_id": str(saved_method["reference"]),
            "description": f"Invoice {invoice.invoice_number}"[:128],
            "metadata": {**_metadata(invoice, invoice.user_id), "off_session": "true"},
        }
        payment = client.call(lambda sdk: _plain(sdk.Payment.create(params, idempotency_key)))
        status = payment.get("status")
        if status == "succeeded":
            return SavedMethodCharge.captured(_payment_of(payment, saved_method))
        if status == "canceled":
            code, message = _cancellation(payment)
            return SavedMethodCharge.declined(code, message)
        # `pending` would need the payer (3-D Secure): an autopayment that cannot complete off-session.
        return SavedMethodCharge.declined("payment_pending", f"YooKassa payment is {status}")

    def refund(self, invoice: InvoiceItem, amount: Decimal, key: str) -> str | None:
        payment_id = _captured_payment_id(invoice)
        params = {"payment_id": payment_id, "amount": _amount(amount, invoice.currency)}
        try:
            refund = client.call(lambda sdk: _plain(sdk.Refund.create(params, key)))
        except client.YookassaApiError as error:
            if error.status not in REFUSALS:
                raise
            if "Idempotence key duplicated" in error.description:
                raise RefundKeyInUse(key) from None
            raise ProviderRefundFailed(error.description) from None
        if refund.get("status") == "canceled":
            details = refund.get("cancellation_details") or {}
            raise ProviderRefundFailed(f"Refund canceled: {details.get('reason') or 'unknown reason'}")
        return str(refund["id"])

    def capture_authorized(self, invoice: InvoiceItem) -> Payment:
        params = {"amount": _amount(invoice.total_amount, invoice.currency)}
        key = f"{invoice.id}:capture"
        return _payment_of(_settle_hold(invoice, lambda sdk, held: sdk.Payment.capture(held, params, key), "succeeded"))

    def release(self, invoice: InvoiceItem) -> None:
        key = f"{invoice.id}:release"
        _settle_hold(invoice, lambda sdk, held: sdk.Payment.cancel(held, key), "canceled")

    # --- notifications -----------------------------------------------------------------------------------------

    def verify_webhook(self, headers: dict[str, str], body: bytes, source_ip: str | None) -> dict[str, Any]:
        """Trust the sender's address (YooKassa signs nothing), then check the body is a YooKassa notification."""
        if not _trusted(source_ip, client.keys().get("allowed_ips") or ()):
            raise InvalidWebhook(UNTRUSTED)
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise InvalidWebhook(INVALID) from None
        obj = payload.get("object") if isinstance(payload, dict) else None
        if (
            not isinstance(obj, dict)
            or payload.get("type") != "notification"
            or not isinstance(payload.get("event"), str)
            or not isinstance(obj.get("id"), str)
            or not obj["id"]
        ):
            raise InvalidWebhook(INVALID)
        return payload  # type: ignore[no-any-return]

    def event_key(self, payload: dict[str, Any]) -> tuple[str, str]:
        """Notifications carry no id of their own: the event and its object's id name one."""
        event = str(payload.get("event"))
        return f"{event}:{(payload.get('object') or {}).get('id')}", event

    def translate(self, payload: dict[str, Any]) -> ProviderEvent:
        """The notification in domain terms, decided by the payment or refund re-fetched from YooKassa."""
        event_id, event = self.event_key(payload)
        object_id = str((payload.get("object") or {}).get("id"))
        base: dict[str, Any] = {"provider": CODE, "event_id": event_id, "event_type": event}
        if event in PAYMENT_EVENTS:
            return _payment_event(base, object_id)
        if event in REFUND_EVENTS:
            return _refund_event(base, object_id)
        return ProviderEvent(kind=EventKind.IGNORED, **base)


# --- events ------------------------------------------------------------------------------------------------------


def _payment_event(base: dict[str, Any], payment_id: str) -> ProviderEvent:
    payment = _refetch(lambda sdk: sdk.Payment.find_one(payment_id))
    if payment is None:
        return ProviderEvent(kind=EventKind.IGNORED, details={"reason": "unknown payment"}, **base)
    value, currency = _money(payment)
    common = {
        **base,
        "invoice_id": _invoice_id(payment),
        "amount": value,
        "currency": currency,
        "session_id": str(payment["id"]),
        "off_session": (payment.get("metadata") or {}).get("off_session") == "true",
        "details": {"status": payment.get("status")},
    }
    status = payment.get("status")
    if status == "succeeded":
        return ProviderEvent(kind=EventKind.CAPTURED, payment=_payment_of(payment), **common)
    if status == "waiting_for_capture":
        return ProviderEvent(kind=EventKind.AUTHORIZED, intent_id=str(payment["id"]), **common)
    if status == "canceled":
        code, message = _cancellation(payment)
        details = payment.get("cancellation_details") or {}
        common["details"] = {**common["details"], **details}
        kind = EventKind.RELEASED if details.get("reason") in RELEASE_REASONS else EventKind.PAYMENT_FAILED
        return ProviderEvent(kind=kind, intent_id=str(payment["id"]), error_code=code, error_message=message, **common)
    return ProviderEvent(kind=EventKind.IGNORED, **common)  # still `pending`: the notification said more than is so


def _refund_event(base: dict[str, Any], refund_id: str) -> ProviderEvent:
    refund = _refetch(lambda sdk: sdk.Refund.find_one(refund_id))
    if refund is None or refund.get("status") != "succeeded":
        status = refund.get("status") if refund else "unknown refund"
        return ProviderEvent(kind=EventKind.IGNORED, refund_id=refund_id, details={"status": status}, **base)
    payment_id = str(refund.get("payment_id"))
    payment = _refetch(lambda sdk: sdk.Payment.find_one(payment_id))
    if payment is None:
        return ProviderEvent(kind=EventKind.IGNORED, refund_id=refund_id, details={"reason": "unknown payment"}, **base)
    value, currency = _money(refund)
    total = Decimal(str((payment.get("refunded_amount") or {}).get("value") or value))
    return ProviderEvent(
        kind=EventKind.REFUNDED,
        invoice_id=_invoice_id(payment),
        amount=value,
        currency=currency,
        session_id=payment_id,
        refunded_total=total,
        refund_id=refund_id,
        details={"payment_id": payment_id},
        **base,
    )


def _settle_hold(invoice: InvoiceItem, act: Callable[[Any, str], Any], outcome: str) -> dict[str, Any]:
    """Capture or cancel the payment holding the invoice's money (§6.3); YooKassa refusing it (a payment no longer
    waiting for capture …) is `ProviderCaptureFailed` with YooKassa's description, an outage a `ProviderError`."""
    held = str(invoice.payment_intent_id or invoice.provider_session_id or "")
    if not held:
        raise ProviderCaptureFailed("The invoice holds no YooKassa authorization")
    try:
        payment = client.call(lambda sdk: _plain(act(sdk, held)))
    except client.YookassaApiError as error:
        if error.status not in REFUSALS:
            raise
        raise ProviderCaptureFailed(error.description) from None
    if payment.get("status") != outcome:
        raise ProviderCaptureFailed(f"YooKassa payment is {payment.get('status')}")
    return payment


def _refetch(fetch: Any) -> dict[str, Any] | None:
    """The object as YooKassa holds it; None when YooKassa knows no such object (a notification about nothing)."""
    try:
        return client.call(lambda sdk: _plain(fetch(sdk)))
    except client.YookassaApiError as error:
        if error.code == "not_found":
            return None
        raise


# --- helpers -----------------------------------------------------------------------------------------------------


def _trusted(source_ip: str | None, allowed: Any) -> bool:
    """`source_ip` inside one of the allowed networks (CIDRs or single addresses, IPv4 or IPv6); an IPv4-mapped
    IPv6 address (`::ffff:185.71.76.1`) counts as its IPv4 address."""
    if not source_ip:
        return False
    try:
        address = ipaddress.ip_address(source_ip.strip())
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    entries = allowed.split(",") if isinstance(allowed, str) else allowed
    for entry in entries:
        try:
            network = ipaddress.ip_network(str(entry).strip(), strict=False)
        except ValueError:
            continue
        if network.version == address.version and address in network:
            return True
    return False


def _plain(response: Any) -> dict[str, Any]:
    """An SDK response object as plain JSON data (Decimal amounts become strings)."""
    return json.loads(json.dumps(dict(response), default=str))  # type: ignore[no-any-return]


def _find_payment(payment_id: str) -> dict[str, Any]:
    return client.call(lambda sdk: _plain(sdk.Payment.find_one(payment_id)))


def _places(currency: str) -> int:
    from chalicelib.catalog.pricing import Currencies
    from chalicelib.catalog.repository import reference

    known = Currencies.of(reference().currencies)
    if currency in known.by_code:
        return known.places(currency)
    return 0 if currency in ZERO_DECIMAL else 2


def _amount(value: Decimal, currency: str) -> dict[str, str]:
    """YooKassa's money object for an exact amount in the currency's places."""
    return {"value": f"{round_money(Decimal(value), _places(currency)):f}", "currency": currency}


def _money(obj: dict[str, Any]) -> tuple[Decimal, str]:
    amount = obj.get("amount") or {}
    currency = str(amount.get("currency") or "")
    try:
        value = round_money(Decimal(str(amount.get("value"))), _places(currency))
    except ArithmeticError:
        raise ProviderError("YooKassa answered an object without a valid amount") from None
    return value, currency


def _minor(value: Decimal, currency: str) -> int:
    return int(value.scaleb(_places(currency)))


def _metadata(invoice: InvoiceItem, user_id: str) -> dict[str, str]:
    return {"invoice_id": invoice.id, "invoice_number": invoice.invoice_number, "user_id": user_id}


def _invoice_id(payment: dict[str, Any]) -> str | None:
    found = (payment.get("metadata") or {}).get("invoice_id")
    return str(found) if found else None


def _captured_payment_id(invoice: InvoiceItem) -> str:
    payment_id = invoice.payment_ref or invoice.payment_intent_id
    if not payment_id:
        raise ProviderRefundFailed("The invoice has no YooKassa payment to refund")
    return str(payment_id)


def _payment_of(payment: dict[str, Any], saved: dict[str, Any] | None = None) -> Payment:
    """The capture's payment: reference and transaction = the YooKassa payment id; the card it saved, if any."""
    method = payment.get("payment_method") or {}
    if saved is None and method.get("saved") and method.get("id"):
        card = method.get("card") or {}
        label = (
            f"{card.get('card_type') or 'Card'} •••• {card.get('last4')}"
            if card.get("last4")
            else method.get("title", "Saved payment method")
        )
        saved = {"provider": CODE, "reference": str(method["id"]), "customer": None, "label": label}
    payment_id = str(payment["id"])
    return Payment(CODE, payment_id, transaction_id=payment_id, saved_method=saved, intent_id=payment_id)


def _cancellation(payment: dict[str, Any]) -> tuple[str, str]:
    details = payment.get("cancellation_details") or {}
    reason = str(details.get("reason") or "canceled")
    party = details.get("party")
    return reason, f"YooKassa canceled the payment: {reason}" + (f" ({party})" if party else "")
