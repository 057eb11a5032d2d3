"""The PayPal provider (checkout-and-payments.md §10.5, §6.3, §7.3, §10.7) over PayPal's Orders and Payments v2.

- A hosted session is an Order (intent `CAPTURE`, or `AUTHORIZE` for manual capture) for the invoice total with
  `custom_id = <invoice id>`, PayPal's `invoice_id` = the invoice number, `PayPal-Request-Id = <invoice id>:<attempt>`
  and, for an invoice with recurring lines, the payer's PayPal account vaulted on success (`store_in_vault:
  ON_SUCCESS`): the vault id is the saved method later charged off-session. PayPal appends `token=<order id>` and
  `PayerID` to the return URL itself (it substitutes no placeholder), so the success URL is sent without its
  `session_id={SESSION_ID}` parameter.
- An `APPROVED` order is captured (or authorized) by whoever sees it first — the session-status poll or the
  `CHECKOUT.ORDER.APPROVED` webhook — under one request id per order, so PayPal does it once; the capture id is the
  payment's reference, the order id its transaction.
- Off-session charges are orders paid at once with `payment_source.paypal.vault_id`, PayPal's `invoice_id` being the
  attempt's idempotency key `<invoice id>:<attempt>` (unique per attempt, as PayPal wants it, and how a capture event
  tells an off-session charge from a checkout).
- Webhooks are verified by PayPal's `verify-webhook-signature` with the configured `webhook_id` over the raw body.

Amounts go to PayPal as decimal strings with the currency's places (JPY none); never floats.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from chalicelib.core.money import format_money
from chalicelib.payments.hosted import (
    Buyer,
    EventKind,
    HostedSession,
    InvalidWebhook,
    ProviderError,
    ProviderEvent,
    ProviderKeys,
    ProviderNotConfigured,
    ReturnUrls,
    SessionState,
    SessionStatus,
    provider_keys,
)
from chalicelib.payments.outcomes import (
    Payment,
    ProviderCaptureFailed,
    ProviderRefundFailed,
    RefundKeyInUse,
    SavedMethodCharge,
)
from chalicelib.payments.providers.sandbox import has_recurring_lines

if TYPE_CHECKING:
    from chalicelib.invoices.models import InvoiceItem

CODE = "paypal"
SIGNATURE_HEADERS = {
    "transmission_id": "paypal-transmission-id",
    "transmission_time": "paypal-transmission-time",
    "transmission_sig": "paypal-transmission-sig",
    "auth_algo": "paypal-auth-algo",
    "cert_url": "paypal-cert-url",
}
PAID_CAPTURE = ("COMPLETED", "PARTIALLY_REFUNDED", "REFUNDED")
PLACEHOLDER = "{SESSION_ID}"


class Refused(Exception):
    """PayPal answered with an error body (4xx): its name, the first detail's issue, and the description."""

    def __init__(self, status: int, name: str, issue: str | None, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.name = name
        self.issue = issue
        self.message = message

    @property
    def code(self) -> str:
        return self.issue or self.name


def _catalog_places(currency: str) -> int:
    from chalicelib.catalog.pricing import Currencies
    from chalicelib.catalog.repository import reference

    return Currencies.of(reference().currencies).places(currency)


class PayPalProvider:
    code = CODE

    def __init__(self, places: Callable[[str], int] | None = None) -> None:
        self._places = places or _catalog_places

    # --- plumbing ---------------------------------------------------------------------------------------------------

    def _keys(self) -> ProviderKeys:
        return provider_keys(CODE)

    def _call(self, controller: str, method: str, options: dict[str, Any]) -> dict[str, Any]:
        """One SDK call; the answer's JSON. PayPal's refusals raise `Refused`; outages `ProviderError` with PayPal's
        message only (never a key: the SDK's own texts name no credential, and none is quoted here)."""
        from paypalserversdk.exceptions.api_exception import ApiException  # type: ignore[import-untyped]
        from paypalserversdk.exceptions.error_exception import ErrorException  # type: ignore[import-untyped]
        from paypalserversdk.exceptions.o_auth_provider_exception import OAuthProviderException  # type: ignore[import-untyped]

        from chalicelib.payments.paypal.client import forget_client, sdk_client

        keys = self._keys()
        try:
            try:
                answer = getattr(getattr(sdk_client(keys), controller), method)(options)
            except ErrorException as exc:
                if int(exc.response_code) != 401:
                    raise
                forget_client(keys)  # a token PayPal no longer honours (revoked, or a restarted emulator): once more
                answer = getattr(getattr(sdk_client(keys), controller), method)(options)
        except OAuthProviderException as exc:
            raise ProviderError(f"PayPal authentication failed: {exc.error_description or exc.error}") from None
        except ErrorException as exc:  # its fields are set only when PayPal answered with a JSON error body
            details = getattr(exc, "details", None) or []
            issue = getattr(details[0], "issue", None) if details else None
            described = getattr(details[0], "description", None) if details else None
            headline = getattr(exc, "message", None) or exc.reason
            status = int(exc.response_code)
            if status >= 500:
                raise ProviderError(f"PayPal API error ({status}): {headline}") from None
            raise Refused(status, getattr(exc, "name", None) or "ERROR", issue, str(described or headline)) from None
        except ApiException as exc:
            raise ProviderError(f"PayPal API error ({exc.response_code}): {_error_text(exc)}") from None
        except ProviderNotConfigured:
            raise
        except Exception as exc:  # the network, the SDK: an outage, its type named, nothing more
            raise ProviderError(f"PayPal API unreachable ({type(exc).__name__})") from None
        text = answer.text or ""
        return json.loads(text) if text.strip() else {}

    def _amount(self, amount: Decimal, currency: str) -> dict[str, str]:
        return {"currency_code": currency, "value": format_money(amount, self._places(currency))}

    def _minor(self, value: str, currency: str) -> int:
        return int(Decimal(value).scaleb(self._places(currency)))

    # --- hosted sessions ----------------------------------------------------------------------------------------

    def create_session(
        self, invoice: InvoiceItem, buyer: Buyer, urls: ReturnUrls, idempotency_key: str, *, manual_capture: bool
    ) -> HostedSession:
        paypal: dict[str, Any] = {
            "experience_context": {
                "return_url": _without_placeholder(urls.success),
                "cancel_url": urls.cancel,
                "user_action": "PAY_NOW",
                "shipping_preference": "NO_SHIPPING",
                "payment_method_preference": "IMMEDIATE_PAYMENT_REQUIRED",
            }
        }
        if has_recurring_lines(invoice):
            attributes: dict[str, Any] = {
                "vault": {
                    "store_in_vault": "ON_SUCCESS",
                    "usage_type": "MERCHANT",
                    "usage_pattern": "SUBSCRIPTION_PREPAID",
                    "customer_type": "CONSUMER",
                }
            }
            if buyer.customer_id:
                attributes["customer"] = {"id": buyer.customer_id}
            paypal["attributes"] = attributes
        unit: dict[str, Any] = {
            "reference_id": "default",
            "custom_id": invoice.id,
            "invoice_id": invoice.invoice_number,
            "description": f"Invoice {invoice.invoice_number}"[:127],
            "amount": self._amount(invoice.total_amount, invoice.currency),
        }
        body = {
            "intent": "AUTHORIZE" if manual_capture else "CAPTURE",
            "purchase_units": [unit],
            "payment_source": {"paypal": paypal},
        }
        try:
            order = self._call(
                "orders",
                "create_order",
                {"body": body, "paypal_request_id": idempotency_key, "prefer": "return=representation"},
            )
        except Refused as exc:
            raise ProviderError(exc.message) from None
        link = next(
            (item["href"] for item in order.get("links", []) if item.get("rel") in ("payer-action", "approve")), None
        )
        return HostedSession(
            session_id=order["id"],
            session_url=link,
            capture_method="manual" if manual_capture else None,
            customer_id=buyer.customer_id,
        )

    def session_state(self, session_id: str) -> SessionState:
        """§10.5: `APPROVED` is captured (authorized) here, then `paid` (`pending`); `COMPLETED` → `paid`;
        `CREATED`/`PAYER_ACTION_REQUIRED` → `unpaid`; `VOIDED` → `expired`."""
        order = self._get_order(session_id)
        if order.get("status") == "APPROVED":
            try:
                order = self._settle(order)
            except Refused:
                order = self._get_order(session_id)  # captured meanwhile, or refused: the order says which
        return self._state(order)

    def expire_session(self, session_id: str) -> None:
        """PayPal has no call that ends an order: an unapproved order lapses by itself (and cannot be paid once the
        invoice is no longer PENDING), so there is nothing to do."""
        return None

    def _get_order(self, order_id: str) -> dict[str, Any]:
        try:
            return self._call("orders", "get_order", {"id": order_id})
        except Refused as exc:
            raise ProviderError(exc.message) from None

    def _settle(self, order: dict[str, Any]) -> dict[str, Any]:
        """Capture (or authorize) an APPROVED order, once whoever asks: one request id per order."""
        order_id = order["id"]
        action = "authorize" if order.get("intent") == "AUTHORIZE" else "capture"
        options = {"id": order_id, "paypal_request_id": f"{order_id}:{action}", "prefer": "return=representation"}
        try:
            return self._call("orders", f"{action}_order", options)
        except Refused as exc:
            if exc.issue in ("ORDER_ALREADY_CAPTURED", "ORDER_ALREADY_AUTHORIZED"):
                return self._get_order(order_id)
            raise

    def _state(self, order: dict[str, Any]) -> SessionState:
        unit = _unit(order)
        amount = unit.get("amount", {})
        currency = str(amount.get("currency_code", ""))
        minor = self._minor(str(amount.get("value", "0")), currency) if currency else 0
        invoice_id = unit.get("custom_id")
        status = order.get("status")
        payment = _payment_of(order)
        authorization = _latest(unit, "authorizations")
        state: SessionStatus = "unpaid"
        authorized = None
        if status == "VOIDED":
            state = "expired"
        elif payment is not None:
            state = "paid"
        elif status == "COMPLETED" and authorization is not None:
            if authorization.get("status") in ("CREATED", "PENDING"):
                state, authorized = "pending", str(authorization["id"])
            elif authorization.get("status") in ("VOIDED", "EXPIRED"):
                state = "expired"
        return SessionState(state, minor, currency, invoice_id, payment=payment, authorized_intent=authorized)

    # --- the PaymentProvider protocol ---------------------------------------------------------------------------

    def charge_saved(
        self, invoice: InvoiceItem, saved_method: dict[str, Any], idempotency_key: str
    ) -> SavedMethodCharge:
        """Charge the vaulted PayPal account off-session (§10.7): the order completes at once or is declined."""
        vault_id = saved_method.get("reference")
        if not vault_id:
            return SavedMethodCharge.declined("INVALID_VAULT_ID", "No PayPal vault id is saved")
        unit = {
            "reference_id": "default",
            "custom_id": invoice.id,
            "invoice_id": idempotency_key,
            "description": f"Invoice {invoice.invoice_number}"[:127],
            "amount": self._amount(invoice.total_amount, invoice.currency),
        }
        body = {
            "intent": "CAPTURE",
            "purchase_units": [unit],
            "payment_source": {"paypal": {"vault_id": vault_id, "stored_credential": _merchant_initiated()}},
        }
        options = {"body": body, "paypal_request_id": idempotency_key, "prefer": "return=representation"}
        try:
            order = self._call("orders", "create_order", options)
        except Refused as exc:
            return SavedMethodCharge.declined(exc.code, exc.message)
        capture = _latest(_unit(order), "captures")
        if capture is None or capture.get("status") not in PAID_CAPTURE:
            reason = (capture or {}).get("status_details", {}).get("reason") or "CAPTURE_NOT_COMPLETED"
            return SavedMethodCharge.declined(str(reason), f"PayPal did not complete the charge ({reason})")
        payment = Payment(CODE, str(capture["id"]), order["id"], dict(saved_method), intent_id=str(capture["id"]))
        return SavedMethodCharge.captured(payment)

    def refund(self, invoice: InvoiceItem, amount: Decimal, key: str) -> str | None:
        """Refund `amount` (exact, in the invoice currency) of the invoice's capture (`payment_ref`; an orphaned
        payment is refunded through a view of the invoice naming its own capture,
        `chalicelib.payments.providers.refund_orphan`) under `key`; PayPal replays the answer of a request id seen
        before, so a key already used for another amount is `RefundKeyInUse`."""
        capture_id = invoice.payment_ref
        if not capture_id:
            raise ProviderRefundFailed("No PayPal capture to refund")
        wanted = self._amount(amount, invoice.currency)
        body = {"amount": wanted, "invoice_id": f"{invoice.invoice_number}-R", "note_to_payer": "Refund"}
        options = {
            "capture_id": capture_id,
            "paypal_request_id": key,
            "prefer": "return=representation",
            "body": body,
        }
        try:
            refund = self._call("payments", "refund_captured_payment", options)
        except Refused as exc:
            raise ProviderRefundFailed(exc.message) from None
        given = refund.get("amount")
        if given and Decimal(given["value"]) != Decimal(wanted["value"]):
            raise RefundKeyInUse(key)
        return str(refund["id"])

    def capture_authorized(self, invoice: InvoiceItem) -> Payment:
        """Capture the whole authorization (§6.3); a refusal is `ProviderCaptureFailed` with PayPal's message."""
        authorization_id = invoice.payment_intent_id
        if not authorization_id:
            raise ProviderCaptureFailed("No PayPal authorization to capture")
        options = {
            "authorization_id": authorization_id,
            "paypal_request_id": f"{authorization_id}:capture",
            "prefer": "return=representation",
            "body": {"final_capture": True},
        }
        try:
            capture = self._call("payments", "capture_authorized_payment", options)
        except Refused as exc:
            if exc.issue != "AUTHORIZATION_ALREADY_CAPTURED":
                raise ProviderCaptureFailed(exc.message) from None
            capture = self._capture_of_authorization(authorization_id)
        order_id = capture.get("supplementary_data", {}).get("related_ids", {}).get("order_id")
        saved = _saved_method(self._get_order(order_id)) if order_id else None
        return Payment(
            CODE, str(capture["id"]), transaction_id=order_id, saved_method=saved, intent_id=str(capture["id"])
        )

    def _capture_of_authorization(self, authorization_id: str) -> dict[str, Any]:
        try:
            authorization = self._call("payments", "get_authorized_payment", {"authorization_id": authorization_id})
        except Refused as exc:
            raise ProviderCaptureFailed(exc.message) from None
        order_id = authorization.get("supplementary_data", {}).get("related_ids", {}).get("order_id")
        for capture in _unit(self._get_order(order_id)).get("payments", {}).get("captures", []):
            if capture.get("supplementary_data", {}).get("related_ids", {}).get("authorization_id") == authorization_id:
                return dict(capture)
        raise ProviderCaptureFailed("Authorization has been previously captured.")

    def release(self, invoice: InvoiceItem) -> None:
        """Void the authorization (§6.3); one voided before is fine, a captured one is `ProviderCaptureFailed`."""
        authorization_id = invoice.payment_intent_id
        if not authorization_id:
            return
        options = {"authorization_id": authorization_id, "paypal_request_id": f"{authorization_id}:void"}
        try:
            self._call("payments", "void_payment", options)
        except Refused as exc:
            if exc.issue != "PREVIOUSLY_VOIDED":
                raise ProviderCaptureFailed(exc.message) from None

    # --- webhooks -----------------------------------------------------------------------------------------------

    def verify_webhook(self, headers: dict[str, str], body: bytes, source_ip: str | None) -> dict[str, Any]:
        """PayPal's signature verification (§10.5) with the configured `webhook_id`, over the raw body."""
        webhook_id = self._keys().get("webhook_id")
        if not webhook_id:
            raise ProviderNotConfigured("paypal: webhook_id is not set")
        fields = {name: headers.get(header, "") for name, header in SIGNATURE_HEADERS.items()}
        if not all(fields.values()):
            raise InvalidWebhook()
        try:
            payload = json.loads(body)
        except ValueError:
            raise InvalidWebhook() from None
        if not isinstance(payload, dict):
            raise InvalidWebhook()
        fields["webhook_id"] = str(webhook_id)
        try:
            answer = self._call("notifications", "verify_webhook_signature", {"fields": fields, "raw_event": body})
        except Refused:
            raise InvalidWebhook() from None
        if answer.get("verification_status") != "SUCCESS":
            raise InvalidWebhook()
        return payload

    def event_key(self, payload: dict[str, Any]) -> tuple[str, str]:
        return str(payload.get("id") or ""), str(payload.get("event_type") or "")

    def translate(self, payload: dict[str, Any]) -> ProviderEvent:
        """A verified PayPal event in domain terms (the §10.5 event list); other types are IGNORED."""
        event_type = str(payload.get("event_type", ""))
        event_id = str(payload.get("id", ""))
        resource = payload.get("resource") or {}
        handler = _TRANSLATIONS.get(event_type)
        if handler is None:
            return ProviderEvent(CODE, event_id, event_type, EventKind.IGNORED)
        return handler(self, event_id, event_type, resource)

    def _approved(self, event_id: str, event_type: str, order: dict[str, Any]) -> ProviderEvent:
        """`CHECKOUT.ORDER.APPROVED`: capture (or authorize) the order now."""
        invoice_id = _unit(order).get("custom_id")
        settled = self._get_order(str(order["id"]))  # the event's copy says APPROVED; the order may be further
        try:
            if settled.get("status") == "APPROVED":
                settled = self._settle(settled)
        except Refused as exc:
            return ProviderEvent(
                CODE, event_id, event_type, EventKind.PAYMENT_FAILED, invoice_id=invoice_id, session_id=order["id"],
                error_code=exc.code, error_message=exc.message,
            )  # fmt: skip
        state = self._state(settled)
        amount, currency = _money(_unit(settled))
        common = {"invoice_id": invoice_id, "amount": amount, "currency": currency, "session_id": settled["id"]}
        if state.status == "paid":
            return ProviderEvent(CODE, event_id, event_type, EventKind.CAPTURED, payment=state.payment, **common)
        if state.status == "pending":
            return ProviderEvent(
                CODE, event_id, event_type, EventKind.AUTHORIZED, intent_id=state.authorized_intent, **common
            )
        return ProviderEvent(CODE, event_id, event_type, EventKind.IGNORED, **common)

    def _capture_completed(self, event_id: str, event_type: str, capture: dict[str, Any]) -> ProviderEvent:
        """`PAYMENT.CAPTURE.COMPLETED`: capture; the order is read for the vaulted method it saved."""
        order_id = _related(capture, "order_id")
        saved = _saved_method(self._get_order(order_id)) if order_id else None
        amount, currency = _money(capture)
        payment = Payment(CODE, str(capture["id"]), order_id, saved, intent_id=str(capture["id"]))
        return ProviderEvent(
            CODE, event_id, event_type, EventKind.CAPTURED, invoice_id=capture.get("custom_id"), amount=amount,
            currency=currency, payment=payment, session_id=order_id, off_session=_off_session(capture),
        )  # fmt: skip

    def _capture_failed(self, event_id: str, event_type: str, capture: dict[str, Any]) -> ProviderEvent:
        """`PAYMENT.CAPTURE.DENIED` / `DECLINED`: `invoice.payment_failed`, or dunning for an off-session charge."""
        amount, currency = _money(capture)
        reason = (capture.get("status_details") or {}).get("reason") or event_type.rsplit(".", 1)[-1]
        return ProviderEvent(
            CODE, event_id, event_type, EventKind.PAYMENT_FAILED, invoice_id=capture.get("custom_id"), amount=amount,
            currency=currency, session_id=_related(capture, "order_id"), error_code=str(reason),
            error_message=f"PayPal capture {str(capture.get('status', '')).lower() or 'failed'} ({reason})",
            off_session=_off_session(capture),
        )  # fmt: skip

    def _authorization(self, event_id: str, event_type: str, authorization: dict[str, Any]) -> ProviderEvent:
        """`PAYMENT.AUTHORIZATION.CREATED` → authorization; `…VOIDED` → release."""
        kind = EventKind.AUTHORIZED if event_type.endswith("CREATED") else EventKind.RELEASED
        amount, currency = _money(authorization)
        return ProviderEvent(
            CODE, event_id, event_type, kind, invoice_id=authorization.get("custom_id"), amount=amount,
            currency=currency, intent_id=str(authorization["id"]), session_id=_related(authorization, "order_id"),
        )  # fmt: skip

    def _refunded(self, event_id: str, event_type: str, refund: dict[str, Any]) -> ProviderEvent:
        """`PAYMENT.CAPTURE.REFUNDED`: a provider-initiated refund; `refunded_total` is PayPal's total refunded of
        the capture (the capture is read when the refund names no invoice)."""
        amount, currency = _money(refund)
        breakdown = refund.get("seller_payable_breakdown") or {}
        total = breakdown.get("total_refunded_amount", {}).get("value")
        invoice_id = refund.get("custom_id")
        capture_id = _up_capture(refund)
        if invoice_id is None and capture_id:
            try:
                invoice_id = self._call("payments", "get_captured_payment", {"capture_id": capture_id}).get("custom_id")
            except Refused as exc:
                raise ProviderError(exc.message) from None
        return ProviderEvent(
            CODE, event_id, event_type, EventKind.REFUNDED, invoice_id=invoice_id, amount=amount, currency=currency,
            refunded_total=Decimal(total) if total is not None else amount, refund_id=str(refund["id"]),
            details={"capture_id": capture_id} if capture_id else {},
        )  # fmt: skip


_TRANSLATIONS: dict[str, Callable[[PayPalProvider, str, str, dict[str, Any]], ProviderEvent]] = {
    "CHECKOUT.ORDER.APPROVED": PayPalProvider._approved,
    "PAYMENT.CAPTURE.COMPLETED": PayPalProvider._capture_completed,
    "PAYMENT.CAPTURE.DENIED": PayPalProvider._capture_failed,
    "PAYMENT.CAPTURE.DECLINED": PayPalProvider._capture_failed,
    "PAYMENT.AUTHORIZATION.CREATED": PayPalProvider._authorization,
    "PAYMENT.AUTHORIZATION.VOIDED": PayPalProvider._authorization,
    "PAYMENT.CAPTURE.REFUNDED": PayPalProvider._refunded,
}


# --- reading PayPal's objects -------------------------------------------------------------------------------------


def _error_text(exc: Any) -> str:
    return str(getattr(exc, "reason", "") or "error")


def _without_placeholder(url: str) -> str:
    """The success URL without parameters that carry `{SESSION_ID}`: PayPal appends `token=<order id>` itself."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if PLACEHOLDER not in v]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _merchant_initiated() -> dict[str, str]:
    return {"payment_initiator": "MERCHANT", "usage": "SUBSEQUENT", "usage_pattern": "SUBSCRIPTION_PREPAID"}


def _unit(order: dict[str, Any]) -> dict[str, Any]:
    units = order.get("purchase_units") or [{}]
    return dict(units[0])


def _latest(unit: dict[str, Any], kind: str) -> dict[str, Any] | None:
    found = (unit.get("payments") or {}).get(kind) or []
    return dict(found[-1]) if found else None


def _money(thing: dict[str, Any]) -> tuple[Decimal | None, str | None]:
    amount = thing.get("amount") or {}
    if "value" not in amount:
        return None, None
    return Decimal(str(amount["value"])), amount.get("currency_code")


def _related(resource: dict[str, Any], name: str) -> str | None:
    value = (resource.get("supplementary_data") or {}).get("related_ids", {}).get(name)
    return str(value) if value else None


def _up_capture(refund: dict[str, Any]) -> str | None:
    for link in refund.get("links") or []:
        if link.get("rel") == "up" and "/captures/" in link.get("href", ""):
            return str(link["href"]).rstrip("/").rsplit("/", 1)[-1]
    return None


def _off_session(capture: dict[str, Any]) -> bool:
    """An off-session charge carries PayPal `invoice_id` `<invoice id>:<attempt>` (see the module docstring)."""
    custom = capture.get("custom_id")
    return bool(custom) and str(capture.get("invoice_id", "")).startswith(f"{custom}:")


def _saved_method(order: dict[str, Any]) -> dict[str, Any] | None:
    paypal = (order.get("payment_source") or {}).get("paypal") or {}
    vault = (paypal.get("attributes") or {}).get("vault") or {}
    if not vault.get("id") or vault.get("status") not in (None, "VAULTED", "APPROVED"):
        return None
    email = paypal.get("email_address")
    return {
        "provider": CODE,
        "reference": str(vault["id"]),
        "customer": (vault.get("customer") or {}).get("id"),
        "label": f"PayPal {email}" if email else "PayPal account",
    }


def _payment_of(order: dict[str, Any]) -> Payment | None:
    """The payment a completed order captured with: its (last) completed capture, and the vaulted method."""
    captures = (_unit(order).get("payments") or {}).get("captures") or []
    paid = [capture for capture in captures if capture.get("status") in PAID_CAPTURE]
    if not paid:
        return None
    capture_id = str(paid[-1]["id"])
    return Payment(CODE, capture_id, str(order["id"]), _saved_method(order), intent_id=capture_id)
