"""The Stripe provider (checkout-and-payments.md §10.4, §10.7, §6.3, §7): the official SDK, domain answers only.

- A hosted payment is one Checkout Session (`mode=payment`) for the whole invoice: its lines at their gross
  amounts when they sum exactly to the total (one line of the total otherwise — a proration credit cannot be a
  Stripe line), `metadata {invoice_id, user_id, invoice_number}`, `client_reference_id = invoice id`, the user's
  Stripe customer (created once), and `setup_future_usage=off_session` when the invoice has recurring lines. Manual
  capture is a PaymentIntent with `capture_method=manual` instead (its client secret is confirmed by Stripe.js).
- Off-session charges: a PaymentIntent with the saved method, `off_session`, `confirm`, `metadata.invoice_id` and
  Stripe's idempotency key `<invoice id>:<attempt>`; a card error is a decline, not a failure.
- Refunds: the captured PaymentIntent, the exact (partial) amount in minor units, idempotency key
  `<invoice id>:refund:<n>`.
- Webhooks: `Stripe-Signature` checked by the SDK's `construct_event` on the raw bytes (300 s tolerance); every
  `v1=` value is tried, so a rotation that signs with old and new secret verifies with either; a timestamp more
  than 300 s ahead is refused as well as one 300 s old.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from chalicelib.payments.hosted import (
    Buyer,
    HostedSession,
    InvalidWebhook,
    ProviderEvent,
    ProviderKeys,
    ReturnUrls,
    SessionState,
)
from chalicelib.payments.outcomes import (
    Payment,
    ProviderCaptureFailed,
    ProviderRefundFailed,
    RefundKeyInUse,
    SavedMethodCharge,
)
from chalicelib.payments.stripe import events
from chalicelib.payments.stripe.amounts import to_minor
from chalicelib.payments.stripe.client import as_dict, error_message, scrub, stripe_client, stripe_errors, stripe_keys

if TYPE_CHECKING:
    from chalicelib.invoices.models import InvoiceItem

WEBHOOK_TOLERANCE = 300  # seconds (§10.4)
SESSION_PLACEHOLDER = "{CHECKOUT_SESSION_ID}"


def has_recurring_lines(invoice: InvoiceItem) -> bool:
    from chalicelib.payments.providers.sandbox import has_recurring_lines as recurring

    return recurring(invoice)


def _line_items(invoice: InvoiceItem, currency: str) -> list[dict[str, Any]]:
    """The invoice's lines at their gross amounts, when they are all non-negative and sum exactly to the total;
    else one line of the total."""
    total = to_minor(invoice.total_amount, currency)
    lines = [(line.description, to_minor(line.gross_amount, currency)) for line in invoice.lines]
    if not lines or any(amount < 0 for _, amount in lines) or sum(amount for _, amount in lines) != total:
        lines = [(f"Invoice {invoice.invoice_number}", total)]
    return [
        {
            "price_data": {
                "currency": currency.lower(),
                "unit_amount": amount,
                "product_data": {"name": (description or invoice.invoice_number)[:250]},
            },
            "quantity": 1,
        }
        for description, amount in lines
    ]


def _metadata(invoice: InvoiceItem, flow: str) -> dict[str, str]:
    return {
        "invoice_id": invoice.id,
        "user_id": invoice.user_id,
        "invoice_number": invoice.invoice_number,
        "flow": flow,
    }


class _SdkLookup:
    """`events.Lookup` through the SDK: the objects a webhook names by id."""

    def __init__(self, provider: StripeProvider) -> None:
        self.provider = provider

    def intent(self, intent_id: str) -> dict[str, Any]:
        return self.provider.payment_intent(intent_id)

    def method(self, method_id: str) -> dict[str, Any]:
        return self.provider.call(lambda c, o: c.v1.payment_methods.retrieve(method_id, options=o))

    def latest_refund(self, charge_id: str) -> dict[str, Any] | None:
        found = self.provider.call(lambda c, o: c.v1.refunds.list({"charge": charge_id, "limit": 1}, options=o))
        data = found.get("data") or []
        return dict(data[0]) if data else None


def _not_from_the_future(signature: str) -> None:
    """The SDK refuses a timestamp older than the tolerance; one as far ahead is refused too (|now − t| ≤ 300 s)."""
    stamps = [part[2:] for part in signature.split(",") if part.startswith("t=")]
    if len(stamps) != 1 or not stamps[0].isdigit() or int(stamps[0]) > time.time() + WEBHOOK_TOLERANCE:
        raise ValueError("timestamp outside the tolerance")


class StripeProvider:
    code = "stripe"

    def __init__(self, keys: ProviderKeys | None = None) -> None:
        self._keys = keys

    # --- plumbing ------------------------------------------------------------------------------------------------

    @property
    def keys(self) -> ProviderKeys:
        return self._keys or stripe_keys()

    def call(
        self, action: Any, idempotency_key: str | None = None, refused: Callable[[Exception], Exception] | None = None
    ) -> dict[str, Any]:
        """Run `action(client, options)` against Stripe; its object as a dict. Stripe refusing the request
        (invalid request, card or idempotency error) raises `refused(error)` when given; any other failure
        ProviderError."""
        import stripe

        keys = self.keys
        client = stripe_client(keys)
        options: Any = {"idempotency_key": idempotency_key} if idempotency_key else {}
        with stripe_errors(keys):
            try:
                return as_dict(action(client, options))
            except (stripe.InvalidRequestError, stripe.CardError, stripe.IdempotencyError) as error:
                if refused is None:
                    raise
                raise refused(error) from None

    def _refusal(self, error: Exception) -> str:
        keys = self.keys
        return scrub(error_message(error), keys.get("secret_key"), keys.get("webhook_secret"))

    def payment_intent(self, intent_id: str) -> dict[str, Any]:
        return self.call(lambda c, o: c.v1.payment_intents.retrieve(intent_id, options=o))

    # --- hosted sessions -------------------------------------------------------------------------------------

    def create_session(
        self,
        invoice: InvoiceItem,
        buyer: Buyer,
        urls: ReturnUrls,
        idempotency_key: str,
        *,
        manual_capture: bool = False,
        expires_at: int | None = None,
    ) -> HostedSession:
        """A Checkout Session for the whole invoice (a manual-capture PaymentIntent when `manual_capture`); the
        buyer's Stripe customer created first when they have none. `expires_at` (unix seconds) bounds a booking
        hold's session (Stripe allows 30 minutes to 24 hours)."""
        currency = invoice.currency.upper()
        created_customer = None
        customer = buyer.customer_id
        if not customer:
            found = self.call(
                lambda c, o: c.v1.customers.create(
                    params={"email": buyer.email, "metadata": {"user_id": buyer.user_id}}, options=o
                ),
                f"{idempotency_key}:customer",
            )
            customer = created_customer = str(found["id"])
        recurring = has_recurring_lines(invoice)
        if manual_capture:
            intent_params: dict[str, Any] = {
                "amount": to_minor(invoice.total_amount, currency),
                "currency": currency.lower(),
                "customer": customer,
                "capture_method": "manual",
                "metadata": _metadata(invoice, events.AUTHORIZATION_FLOW),
                "description": f"Invoice {invoice.invoice_number}",
            }
            if recurring:
                intent_params["setup_future_usage"] = "off_session"
            intent = self.call(
                lambda c, o: c.v1.payment_intents.create(params=intent_params, options=o), idempotency_key
            )
            return HostedSession(
                session_id=str(intent["id"]),
                session_url=None,
                payment_intent_id=str(intent["id"]),
                client_secret=intent.get("client_secret"),
                capture_method="manual",
                customer_id=created_customer,
            )
        intent_data: dict[str, Any] = {"metadata": _metadata(invoice, events.CHECKOUT_FLOW)}
        if recurring:
            intent_data["setup_future_usage"] = "off_session"
        params: dict[str, Any] = {
            "mode": "payment",
            "line_items": _line_items(invoice, currency),
            "metadata": _metadata(invoice, events.CHECKOUT_FLOW),
            "client_reference_id": invoice.id,
            "customer": customer,
            "success_url": urls.success.replace("{SESSION_ID}", SESSION_PLACEHOLDER),
            "cancel_url": urls.cancel,
            "payment_intent_data": intent_data,
        }
        if expires_at is not None:
            params["expires_at"] = int(expires_at)
        session = self.call(lambda c, o: c.v1.checkout.sessions.create(params=params, options=o), idempotency_key)
        return HostedSession(
            session_id=str(session["id"]),
            session_url=session.get("url"),
            payment_intent_id=None,
            customer_id=created_customer,
        )

    def session_state(self, session_id: str) -> SessionState:
        """What Stripe says of a session (a Checkout Session, or a manual-capture PaymentIntent)."""
        lookup = _SdkLookup(self)
        if session_id.startswith("pi_"):
            return self._intent_state(self.payment_intent(session_id), lookup)
        session = self.call(
            lambda c, o: c.v1.checkout.sessions.retrieve(
                session_id, params={"expand": ["payment_intent", "payment_intent.payment_method"]}, options=o
            )
        )
        currency = str(session.get("currency") or "").upper()
        status: Any = "expired" if session.get("status") == "expired" else session.get("payment_status", "unpaid")
        payment = events.session_payment(session, lookup) if status == "paid" else None
        return SessionState(
            status=status,
            amount_minor=int(session.get("amount_total") or 0),
            currency=currency,
            invoice_id=events.session_invoice(session),
            payment=payment,
        )

    @staticmethod
    def _intent_state(intent: dict[str, Any], lookup: events.Lookup) -> SessionState:
        currency = str(intent.get("currency") or "").upper()
        invoice_id = (intent.get("metadata") or {}).get("invoice_id")
        status, payment, authorized = intent.get("status"), None, None
        if status == "succeeded":
            saved = events.intent_saved_method(intent, lookup)
            payment = Payment("stripe", str(intent["id"]), intent.get("latest_charge"), saved, str(intent["id"]))
            answer: Any = "paid"
        elif status == "requires_capture":
            answer, authorized = "pending", str(intent["id"])
        elif status == "canceled":
            answer = "expired"
        elif status == "processing":
            answer = "pending"
        else:
            answer = "unpaid"
        return SessionState(answer, int(intent.get("amount") or 0), currency, invoice_id, payment, authorized)

    def expire_session(self, session_id: str) -> None:
        """Expire an open session (cancel an unconfirmed manual-capture intent); one no longer open is left."""
        import stripe

        client, keys = stripe_client(self.keys), self.keys
        with stripe_errors(keys):
            try:
                if session_id.startswith("pi_"):
                    client.v1.payment_intents.cancel(session_id, params={"cancellation_reason": "abandoned"})
                else:
                    client.v1.checkout.sessions.expire(session_id)
            except stripe.InvalidRequestError as error:
                if getattr(error, "http_status", None) == 404:
                    raise
                return  # complete, expired or authorized already: Stripe does not allow it, nothing to do

    # --- money -------------------------------------------------------------------------------------------------

    def charge_saved(
        self, invoice: InvoiceItem, saved_method: dict[str, Any], idempotency_key: str
    ) -> SavedMethodCharge:
        """An off-session charge of the saved card; a card error (declined, authentication required) is a
        decline, any other failure ProviderError."""
        import stripe

        currency = invoice.currency.upper()
        params: dict[str, Any] = {
            "amount": to_minor(invoice.total_amount, currency),
            "currency": currency.lower(),
            "customer": saved_method.get("customer"),
            "payment_method": saved_method.get("reference"),
            "off_session": True,
            "confirm": True,
            "metadata": _metadata(invoice, events.OFF_SESSION_FLOW),
            "description": f"Invoice {invoice.invoice_number}",
        }
        keys = self.keys
        client = stripe_client(keys)
        with stripe_errors(keys):
            try:
                intent = as_dict(
                    client.v1.payment_intents.create(
                        params=params,  # type: ignore[arg-type]
                        options={"idempotency_key": idempotency_key},
                    )
                )
            except stripe.CardError as error:
                body = (error.json_body or {}).get("error", {}) if isinstance(error.json_body, dict) else {}
                code = body.get("decline_code") or error.code or "card_declined"
                return SavedMethodCharge.declined(str(code), self._refusal(error))
        if intent.get("status") != "succeeded":
            return SavedMethodCharge.declined(str(intent.get("status")), "The payment was not completed")
        payment = Payment("stripe", str(intent["id"]), intent.get("latest_charge"), saved_method, str(intent["id"]))
        return SavedMethodCharge.captured(payment)

    def _intent_of(self, invoice: InvoiceItem) -> str:
        """The PaymentIntent that took the invoice's money: its intent id, or the one behind its session."""
        for candidate in (invoice.payment_intent_id, invoice.payment_ref):
            if candidate and candidate.startswith("pi_"):
                return candidate
        reference = invoice.payment_ref or invoice.provider_session_id
        if reference and reference.startswith("cs_"):
            session = self.call(lambda c, o: c.v1.checkout.sessions.retrieve(reference, options=o))
            intent = session.get("payment_intent")
            if intent:
                return str(intent if isinstance(intent, str) else intent["id"])
        raise ProviderRefundFailed("No Stripe payment is recorded on this invoice")

    def refund(self, invoice: InvoiceItem, amount: Decimal, key: str) -> str | None:
        """Refund `amount` (exact minor units) of the captured PaymentIntent under the idempotency key `key`."""
        import stripe

        currency = invoice.currency.upper()
        intent = self._intent_of(invoice)
        params: dict[str, Any] = {
            "payment_intent": intent,
            "amount": to_minor(amount, currency),
            "metadata": {"invoice_id": invoice.id, "refund_key": key},
        }

        def refused(error: Exception) -> Exception:
            if isinstance(error, stripe.IdempotencyError):
                return RefundKeyInUse(key)
            return ProviderRefundFailed(self._refusal(error))

        refund = self.call(lambda c, o: c.v1.refunds.create(params=params, options=o), key, refused)
        if refund.get("status") in ("failed", "canceled"):
            raise ProviderRefundFailed(f"Stripe refund {refund['id']} {refund['status']}")
        return str(refund["id"])

    def capture_authorized(self, invoice: InvoiceItem) -> Payment:
        """Capture the authorization's full amount (§6.3)."""
        intent_id = self._authorization(invoice)
        intent = self.call(
            lambda c, o: c.v1.payment_intents.capture(intent_id, options=o), refused=self._capture_refused
        )
        saved = events.intent_saved_method(intent, _SdkLookup(self))
        return Payment("stripe", intent_id, intent.get("latest_charge"), saved, intent_id)

    def release(self, invoice: InvoiceItem) -> None:
        """Void the authorization (§6.3)."""
        intent_id = self._authorization(invoice)
        self.call(lambda c, o: c.v1.payment_intents.cancel(intent_id, options=o), refused=self._capture_refused)

    def _capture_refused(self, error: Exception) -> Exception:
        return ProviderCaptureFailed(self._refusal(error))

    @staticmethod
    def _authorization(invoice: InvoiceItem) -> str:
        if not invoice.payment_intent_id:
            raise ProviderCaptureFailed("The invoice holds no Stripe authorization")
        return str(invoice.payment_intent_id)

    def cancel_legacy_subscription(self, subscription_id: str, *, immediately: bool = False) -> None:
        """A Stripe-managed (legacy) subscription cancelled: at period end, or at once (§10.4)."""
        if immediately:
            self.call(lambda c, o: c.v1.subscriptions.cancel(subscription_id, options=o))
        else:
            self.call(
                lambda c, o: c.v1.subscriptions.update(
                    subscription_id, params={"cancel_at_period_end": True}, options=o
                )
            )

    # --- webhooks ----------------------------------------------------------------------------------------------

    def verify_webhook(self, headers: dict[str, str], body: bytes, source_ip: str | None) -> dict[str, Any]:
        """The event of a `Stripe-Signature`-verified body (raw bytes, 300 s tolerance), else InvalidWebhook."""
        import stripe

        secret = self.keys.require("webhook_secret")
        signature = headers.get("stripe-signature")
        if not signature:
            raise InvalidWebhook()
        try:
            stripe.Webhook.construct_event(body, signature, secret, tolerance=WEBHOOK_TOLERANCE)
            payload = json.loads(body)
            _not_from_the_future(signature)
        except (stripe.SignatureVerificationError, ValueError):
            raise InvalidWebhook() from None
        if not isinstance(payload, dict) or payload.get("object") != "event":
            raise InvalidWebhook()
        return payload

    def event_key(self, payload: dict[str, Any]) -> tuple[str, str]:
        return str(payload.get("id") or ""), str(payload.get("type") or "")

    def translate(self, payload: dict[str, Any]) -> ProviderEvent:
        """The verified event in domain terms (§10.4's table); objects it names are read through the SDK."""
        return events.translate(payload, _SdkLookup(self))
