"""A local YooKassa (API v3 subset) for tests and `make run`: payments with a redirect confirmation and a hosted
payment page, capture and cancel of two-stage payments, autopayments of saved bank cards, refunds, and the
unsigned HTTP notifications YooKassa sends (it has no signature: the merchant trusts its source address and
re-fetches the object, so the emulator posts them from 127.0.0.1).

Wire format as YooKassa's: HTTP Basic `shop_id:secret_key` (a wrong pair is 401 `invalid_credentials`), an
`Idempotence-Key` header required on every POST (the same key and body answer the same object again; the same key
with another body is 400 `invalid_request`), errors `{"type": "error", "id", "code", "description", "parameter"}`,
money `{"value": "10.00", "currency": "RUB"}`. The API is served both at the root and under `/v3` (YooKassa's own
base is `https://api.yookassa.ru/v3`), so `api_base` may be either.

Control knobs, as Python methods and as JSON `POST /_emulator/<action>` (body → answer):

| action | body | Python |
|---|---|---|
| `decline-off-session` | `{"payment_method_id"?, "reason"?, "enabled"?}` | `decline_off_session` (`accept_…` undoes) |
| `refund` (from the dashboard) | `{"payment_id", "amount"?: "1.50"}` (default: the rest) | `dashboard_refund` |
| `expire` | `{"payment_id"}`: `expired_on_confirmation` / `expired_on_capture` | `expire` |
| `pay`, `decline` | `{"payment_id", "reason"?}`: the hosted page's buttons without a browser | `pay`, `decline` |
| `fail-next` | `{"count"?: 1, "status"?: 500}`: the next API calls answer a 5xx | `fail_next` |
| `flush` | — : deliver the queued notifications | `flush` |
| `payments` | — : every payment as the API shows it | `payments` (dict) |

`python -m infra.emulators.yookassa --port N --webhook-url URL [--shop-id ID --secret-key KEY]` serves it on its
own and delivers its notifications to URL every half second.
"""

from __future__ import annotations

import base64
import html
import json
import threading
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Response, redirect, request
from werkzeug.wrappers import Response as BaseResponse

from infra.emulators.base import Deliver, Emulator, command_line, deliverer_for, serve

TEST_CARD = {
    "first6": "555555",
    "last4": "4444",
    "expiry_month": "12",
    "expiry_year": "2030",
    "card_type": "MasterCard",
    "issuer_country": "RU",
}
DECLINE_REASONS = (
    "insufficient_funds",
    "card_expired",
    "general_decline",
    "fraud_suspected",
    "3d_secure_failed",
    "call_issuer",
    "canceled_by_user",
)
PAGE_PATH = "/checkout/payments/v2/contract"
API_PREFIXES = ("", "/v3")


class ApiRefusal(Exception):
    """An answer of YooKassa's error shape."""

    def __init__(self, status: int, code: str, description: str, parameter: str | None = None) -> None:
        super().__init__(description)
        self.status, self.code, self.description, self.parameter = status, code, description, parameter

    def body(self) -> dict[str, Any]:
        answer = {"type": "error", "id": str(uuid.uuid4()), "code": self.code, "description": self.description}
        if self.parameter:
            answer["parameter"] = self.parameter
        return answer


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _later(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _object_id() -> str:
    """YooKassa-looking ids (`2a1b3c4d-000f-5000-8000-18db351245c7`)."""
    raw = uuid.uuid4().hex
    return f"{raw[:8]}-000f-5000-{'89ab'[int(raw[8], 16) % 4]}{raw[9:12]}-{raw[12:24]}"


def _money(value: Decimal, currency: str) -> dict[str, str]:
    return {"value": f"{value.quantize(Decimal('0.01')):f}", "currency": currency}


def _amount(given: Any, parameter: str = "amount") -> tuple[Decimal, str]:
    if not isinstance(given, dict):
        raise ApiRefusal(400, "invalid_request", f"Missing required parameter {parameter}", parameter)
    try:
        value = Decimal(str(given.get("value")))
    except InvalidOperation:
        value = Decimal("NaN")
    currency = given.get("currency")
    if not value.is_finite() or value <= 0 or value != value.quantize(Decimal("0.01")):
        raise ApiRefusal(400, "invalid_request", "Invalid amount value", f"{parameter}.value")
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha():
        raise ApiRefusal(400, "invalid_request", "Invalid currency", f"{parameter}.currency")
    return value, currency.upper()


class YookassaEmulator(Emulator):
    code = "yookassa"

    def __init__(
        self,
        shop_id: str = "100500",
        secret_key: str = "test_emulator_secret",  # noqa: S107 - the emulator's own key, never a real one
        deliver: Deliver | None = None,
    ) -> None:
        self.shop_id = shop_id
        self.secret_key = secret_key
        self.payments: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.saved_methods: dict[str, dict[str, Any]] = {}  # saved payment method id → its payment_method object
        self.api_calls = 0
        self._answers: dict[str, tuple[str, Any, dict[str, Any]]] = {}  # Idempotence-Key → (path, body, answer)
        self._decline_all: str | None = None
        self._decline_methods: dict[str, str] = {}
        self._failures: list[int] = []
        self._key_locks: dict[str, threading.Lock] = {}
        super().__init__(deliver)

    # --- routes ------------------------------------------------------------------------------------------------

    def routes(self) -> None:
        app = self.app
        for prefix in API_PREFIXES:
            app.add_url_rule(f"{prefix}/payments", f"create_payment{prefix}", self._api(self._create), methods=["POST"])
            app.add_url_rule(
                f"{prefix}/payments/<object_id>", f"get_payment{prefix}", self._api(self._get_payment), methods=["GET"]
            )
            app.add_url_rule(
                f"{prefix}/payments/<object_id>/capture",
                f"capture{prefix}",
                self._api(self._capture),
                methods=["POST"],
            )
            app.add_url_rule(
                f"{prefix}/payments/<object_id>/cancel", f"cancel{prefix}", self._api(self._cancel), methods=["POST"]
            )
            app.add_url_rule(f"{prefix}/refunds", f"create_refund{prefix}", self._api(self._refund), methods=["POST"])
            app.add_url_rule(
                f"{prefix}/refunds/<object_id>", f"get_refund{prefix}", self._api(self._get_refund), methods=["GET"]
            )
        app.add_url_rule(PAGE_PATH, "page", self._page, methods=["GET"])
        app.add_url_rule(f"{PAGE_PATH}/pay", "page_pay", self._page_pay, methods=["POST"])
        app.add_url_rule(f"{PAGE_PATH}/decline", "page_decline", self._page_decline, methods=["POST"])
        app.add_url_rule("/_emulator/<action>", "control", self._control, methods=["GET", "POST"])

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/v3"

    def _api(self, handler: Any) -> Any:
        """Authentication, the outage knob, idempotence and YooKassa's error answers around an API handler."""

        def endpoint(**params: str) -> Response:
            try:
                with self.lock:
                    self.api_calls += 1
                    failing = self._failures.pop(0) if self._failures else None
                if failing is not None:
                    raise ApiRefusal(failing, "internal_server_error", "Internal server error")
                self._authenticate()
                if request.method != "POST":
                    return _json(200, handler(None, **params))
                return _json(200, self._idempotent(handler, params))
            except ApiRefusal as refusal:
                return _json(refusal.status, refusal.body())

        return endpoint

    def _authenticate(self) -> None:
        header = request.headers.get("Authorization", "")
        given = ""
        if header.startswith("Basic "):
            try:
                given = base64.b64decode(header[6:]).decode()
            except ValueError:
                given = ""
        if given != f"{self.shop_id}:{self.secret_key}":
            raise ApiRefusal(
                401,
                "invalid_credentials",
                "Error in shopId or secret key. Check their validity. You can reissue the key in the Merchant Profile",
                "Authorization",
            )

    def _idempotent(self, handler: Any, params: dict[str, str]) -> dict[str, Any]:
        key = request.headers.get("Idempotence-Key")
        if not key:
            raise ApiRefusal(400, "invalid_request", "Idempotence key is missing", "Idempotence-Key")
        if len(key) > 64:
            raise ApiRefusal(400, "invalid_request", "Idempotence key is too long", "Idempotence-Key")
        raw = request.get_data()
        try:
            body = json.loads(raw) if raw.strip() else {}
        except ValueError as exc:
            raise ApiRefusal(400, "invalid_request", "Request body is not a valid JSON") from exc
        with self.lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:  # a concurrent repeat waits for the first answer
            with self.lock:
                seen = self._answers.get(key)
            if seen is not None:
                path, first_body, answer = seen
                if path != request.path or first_body != body:
                    raise ApiRefusal(
                        400,
                        "invalid_request",
                        "Idempotence key duplicated: a request with this key had other parameters",
                        "Idempotence-Key",
                    )
                return answer
            fresh: dict[str, Any] = handler(body, **params)
            with self.lock:
                self._answers[key] = (request.path, body, fresh)
            return fresh

    # --- API handlers ------------------------------------------------------------------------------------------

    def _create(self, body: dict[str, Any]) -> dict[str, Any]:
        value, currency = _amount(body.get("amount"))
        metadata = body.get("metadata") or {}
        if not isinstance(metadata, dict) or any(not isinstance(v, str | int | float) for v in metadata.values()):
            raise ApiRefusal(400, "invalid_request", "Invalid metadata", "metadata")
        payment: dict[str, Any] = {
            "id": _object_id(),
            "status": "pending",
            "paid": False,
            "amount": _money(value, currency),
            "recipient": {"account_id": self.shop_id, "gateway_id": "100700"},
            "created_at": _now(),
            "test": True,
            "refundable": False,
            "metadata": {k: str(v) for k, v in metadata.items()},
            "capture": bool(body.get("capture", False)),  # not on the wire: how the payer's approval ends
            "save_payment_method": bool(body.get("save_payment_method", False)),
        }
        if body.get("description"):
            payment["description"] = str(body["description"])[:128]
        method_id = body.get("payment_method_id")
        if method_id:
            with self.lock:
                method = self.saved_methods.get(str(method_id))
            if method is None:
                raise ApiRefusal(
                    400, "invalid_request", "Payment method is not saved or not found", "payment_method_id"
                )
            with self.lock:
                self.payments[payment["id"]] = payment
                decline = self._decline_methods.get(str(method_id)) or self._decline_all
            payment["payment_method"] = dict(method)
            if decline:
                self._cancel_payment(payment, "payment_network", decline)
            else:
                self._approve(payment)
            return _public(payment)
        confirmation = body.get("confirmation")
        if not isinstance(confirmation, dict) or confirmation.get("type") != "redirect":
            raise ApiRefusal(400, "invalid_request", "Missing confirmation of type redirect", "confirmation")
        if not confirmation.get("return_url"):
            raise ApiRefusal(400, "invalid_request", "Missing return_url", "confirmation.return_url")
        payment["confirmation"] = {
            "type": "redirect",
            "return_url": str(confirmation["return_url"]),
            "confirmation_url": f"{self.base_url}{PAGE_PATH}?orderId={payment['id']}",
        }
        with self.lock:
            self.payments[payment["id"]] = payment
        return _public(payment)

    def _get_payment(self, _: Any, object_id: str) -> dict[str, Any]:
        return _public(self._payment(object_id))

    def _capture(self, body: dict[str, Any], object_id: str) -> dict[str, Any]:
        payment = self._payment(object_id)
        with self.lock:
            if payment["status"] != "waiting_for_capture":
                raise ApiRefusal(400, "invalid_request", f"Incorrect payment status: {payment['status']}")
            if body.get("amount") is not None:
                value, currency = _amount(body["amount"])
                held = Decimal(payment["amount"]["value"])
                if currency != payment["amount"]["currency"] or value > held:
                    raise ApiRefusal(400, "invalid_request", "Capture amount exceeds the authorized amount", "amount")
                payment["amount"] = _money(value, currency)
            payment.update(status="succeeded", captured_at=_now(), refundable=True)
            payment.pop("expires_at", None)
        self._notify("payment.succeeded", payment)
        return _public(payment)

    def _cancel(self, _: dict[str, Any], object_id: str) -> dict[str, Any]:
        payment = self._payment(object_id)
        if payment["status"] != "waiting_for_capture":
            raise ApiRefusal(400, "invalid_request", f"Incorrect payment status: {payment['status']}")
        self._cancel_payment(payment, "merchant", "canceled_by_merchant")
        return _public(payment)

    def _refund(self, body: dict[str, Any]) -> dict[str, Any]:
        payment_id = body.get("payment_id")
        if not isinstance(payment_id, str) or not payment_id:
            raise ApiRefusal(400, "invalid_request", "Missing required parameter payment_id", "payment_id")
        value, currency = _amount(body.get("amount"))
        return self._make_refund(self._payment(payment_id, parameter="payment_id"), value, currency, body)

    def _get_refund(self, _: Any, object_id: str) -> dict[str, Any]:
        with self.lock:
            refund = self.refunds.get(object_id)
        if refund is None:
            raise ApiRefusal(404, "not_found", "Incorrect refund_id. Refund doesn't exist or access denied")
        return dict(refund)

    # --- state changes -----------------------------------------------------------------------------------------

    def _payment(self, payment_id: str, parameter: str | None = None) -> dict[str, Any]:
        with self.lock:
            payment = self.payments.get(payment_id)
        if payment is None:
            if parameter:
                raise ApiRefusal(400, "invalid_request", "Payment doesn't exist or access denied", parameter)
            raise ApiRefusal(404, "not_found", "Incorrect payment_id. Payment doesn't exist or access denied")
        return payment

    def _approve(self, payment: dict[str, Any]) -> None:
        """The payer paid: captured at once (`capture: true`) or held for the merchant's capture."""
        with self.lock:
            payment["paid"] = True
            payment["authorization_details"] = {
                "rrn": str(uuid.uuid4().int)[:12],
                "auth_code": str(uuid.uuid4().int)[:6],
                "three_d_secure": {"applied": False},
            }
            if payment["capture"]:
                payment.update(status="succeeded", captured_at=_now(), refundable=True)
                event = "payment.succeeded"
            else:
                payment.update(status="waiting_for_capture", expires_at=_later(7))
                event = "payment.waiting_for_capture"
        self._notify(event, payment)

    def _cancel_payment(self, payment: dict[str, Any], party: str, reason: str) -> None:
        with self.lock:
            payment.update(status="canceled", paid=False, refundable=False)
            payment["cancellation_details"] = {"party": party, "reason": reason}
            payment.pop("expires_at", None)
        self._notify("payment.canceled", payment)

    def _make_refund(
        self, payment: dict[str, Any], value: Decimal, currency: str, body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        with self.lock:
            if payment["status"] != "succeeded":
                raise ApiRefusal(400, "invalid_request", f"Incorrect payment status: {payment['status']}", "payment_id")
            if currency != payment["amount"]["currency"]:
                raise ApiRefusal(
                    400, "invalid_request", "Refund currency differs from the payment's", "amount.currency"
                )
            refunded = Decimal(payment.get("refunded_amount", {}).get("value", "0"))
            if refunded + value > Decimal(payment["amount"]["value"]):
                raise ApiRefusal(
                    400, "invalid_request", "The refund amount exceeds the amount available for refund", "amount.value"
                )
            refund: dict[str, Any] = {
                "id": _object_id(),
                "payment_id": payment["id"],
                "status": "succeeded",
                "created_at": _now(),
                "amount": _money(value, currency),
            }
            if body and body.get("description"):
                refund["description"] = str(body["description"])[:250]
            self.refunds[refund["id"]] = refund
            payment["refunded_amount"] = _money(refunded + value, currency)
            payment["refundable"] = refunded + value < Decimal(payment["amount"]["value"])
        self._notify("refund.succeeded", refund)
        return dict(refund)

    def _notify(self, event: str, obj: dict[str, Any]) -> None:
        body = {"type": "notification", "event": event, "object": _public(obj)}
        self.enqueue({"Content-Type": "application/json"}, json.dumps(body).encode())

    # --- the hosted page ---------------------------------------------------------------------------------------

    def _page(self) -> Response:
        payment = self.payments.get(request.args.get("orderId", ""))
        if payment is None:
            return Response("<h1>Payment not found</h1>", status=404, mimetype="text/html")
        amount = f"{html.escape(payment['amount']['value'])} {html.escape(payment['amount']['currency'])}"
        title = html.escape(payment.get("description", "Payment"))
        order = html.escape(payment["id"])
        if payment["status"] != "pending":
            body = f"<h1>{title}</h1><p>{amount}</p><p id='status'>{html.escape(payment['status'])}</p>"
            return Response(_html(body), mimetype="text/html")
        body = (
            f"<h1>{title}</h1><p id='amount'>{amount}</p>"
            f"<p>Card {TEST_CARD['card_type']} •••• {TEST_CARD['last4']}</p>"
            f"<form method='post' action='{PAGE_PATH}/pay'><input type='hidden' name='orderId' value='{order}'>"
            f"<button id='pay' type='submit'>Pay {amount}</button></form>"
            f"<form method='post' action='{PAGE_PATH}/decline'><input type='hidden' name='orderId' value='{order}'>"
            "<button id='decline' type='submit'>Decline</button></form>"
        )
        return Response(_html(body), mimetype="text/html")

    def _page_pay(self) -> BaseResponse:
        return self._page_answer(self.pay)

    def _page_decline(self) -> BaseResponse:
        return self._page_answer(lambda payment_id: self.decline(payment_id, request.form.get("reason") or None))

    def _page_answer(self, act: Any) -> BaseResponse:
        payment_id = request.form.get("orderId", "")
        try:
            payment = act(payment_id)
        except KeyError:
            return Response(_html("<h1>Payment not found</h1>"), status=404, mimetype="text/html")
        except ValueError as exc:
            return Response(_html(f"<h1>{html.escape(str(exc))}</h1>"), status=400, mimetype="text/html")
        target = payment["confirmation"]["return_url"].replace("{SESSION_ID}", payment["id"])
        return redirect(target, code=303)

    # --- control knobs (Python) --------------------------------------------------------------------------------

    def pay(self, payment_id: str) -> dict[str, Any]:
        """The payer pays with the test card on the hosted page (KeyError: unknown; ValueError: not pending)."""
        payment = self.payments[payment_id]
        if payment["status"] != "pending":
            raise ValueError(f"Payment is {payment['status']}")
        method = {
            "type": "bank_card",
            "id": payment["id"],
            "saved": payment["save_payment_method"],
            "title": f"Bank card *{TEST_CARD['last4']}",
            "card": dict(TEST_CARD),
        }
        with self.lock:
            payment["payment_method"] = method
            if method["saved"]:
                self.saved_methods[method["id"]] = dict(method)
        self._approve(payment)
        return payment

    def decline(self, payment_id: str, reason: str | None = None) -> dict[str, Any]:
        """The payer's card is refused on the hosted page: the payment is canceled."""
        payment = self.payments[payment_id]
        if payment["status"] != "pending":
            raise ValueError(f"Payment is {payment['status']}")
        with self.lock:
            payment["payment_method"] = {
                "type": "bank_card",
                "id": payment["id"],
                "saved": False,
                "card": dict(TEST_CARD),
            }
        chosen = reason if reason in DECLINE_REASONS else "insufficient_funds"
        self._cancel_payment(payment, "payment_network", chosen)
        return payment

    def decline_off_session(self, payment_method_id: str | None = None, reason: str = "insufficient_funds") -> None:
        """Refuse future autopayments: of one saved method, or (None) of all."""
        with self.lock:
            if payment_method_id is None:
                self._decline_all = reason
            else:
                self._decline_methods[payment_method_id] = reason

    def accept_off_session(self, payment_method_id: str | None = None) -> None:
        with self.lock:
            if payment_method_id is None:
                self._decline_all = None
                self._decline_methods.clear()
            else:
                self._decline_methods.pop(payment_method_id, None)

    def dashboard_refund(self, payment_id: str, amount: Decimal | str | None = None) -> dict[str, Any]:
        """A refund made in YooKassa's merchant profile (not through our API): `refund.succeeded` is queued."""
        payment = self.payments[payment_id]
        held = Decimal(payment["amount"]["value"])
        value = (
            Decimal(str(amount))
            if amount is not None
            else held - Decimal(payment.get("refunded_amount", {}).get("value", "0"))
        )
        return self._make_refund(payment, value, payment["amount"]["currency"])

    def expire(self, payment_id: str) -> dict[str, Any]:
        """Let a payment lapse: unconfirmed (`expired_on_confirmation`) or an uncaptured hold (`expired_on_capture`)."""
        payment = self.payments[payment_id]
        reasons = {"pending": "expired_on_confirmation", "waiting_for_capture": "expired_on_capture"}
        if payment["status"] not in reasons:
            raise ValueError(f"Payment is {payment['status']}")
        self._cancel_payment(payment, "yoo_money", reasons[payment["status"]])
        return payment

    def fail_next(self, count: int = 1, status: int = 500) -> None:
        """The next `count` API calls answer `status` (an outage)."""
        with self.lock:
            self._failures.extend([status] * count)

    def notification(self, event: str, object_id: str, **override: Any) -> bytes:
        """A notification body for one of our objects, with fields overridden (to test what the merchant trusts)."""
        with self.lock:
            found = self.refunds.get(object_id) if event.startswith("refund.") else self.payments.get(object_id)
            obj = _public(found) if found else {"id": object_id}
        obj.update(override)
        return json.dumps({"type": "notification", "event": event, "object": obj}).encode()

    # --- control knobs (JSON) ----------------------------------------------------------------------------------

    def _control(self, action: str) -> Response:
        given = request.get_json(silent=True) or {}
        try:
            answer = self._act(action, given)
        except KeyError:
            return _json(404, {"error": "not found"})
        except (ValueError, ApiRefusal) as exc:
            return _json(400, {"error": str(exc)})
        return _json(200, answer)

    def _act(self, action: str, given: dict[str, Any]) -> dict[str, Any]:
        payment_id = str(given.get("payment_id", ""))
        if action == "decline-off-session":
            if given.get("enabled", True):
                self.decline_off_session(given.get("payment_method_id"), given.get("reason") or "insufficient_funds")
            else:
                self.accept_off_session(given.get("payment_method_id"))
            return {"declining": self._decline_all, "declining_methods": dict(self._decline_methods)}
        if action == "refund":
            return self.dashboard_refund(payment_id, given.get("amount"))
        if action == "expire":
            return _public(self.expire(payment_id))
        if action == "pay":
            return _public(self.pay(payment_id))
        if action == "decline":
            return _public(self.decline(payment_id, given.get("reason")))
        if action == "fail-next":
            self.fail_next(int(given.get("count", 1)), int(given.get("status", 500)))
            return {"failing": len(self._failures)}
        if action == "flush":
            return {"delivered": len(self.flush()), "pending": len(self.pending())}
        if action == "payments":
            with self.lock:
                return {"payments": [_public(p) for p in self.payments.values()]}
        raise KeyError(action)


def _public(payment: dict[str, Any]) -> dict[str, Any]:
    """A stored object as the API shows it (without the emulator's own bookkeeping)."""
    shown = json.loads(json.dumps(payment))
    shown.pop("capture", None)
    shown.pop("save_payment_method", None)
    return shown  # type: ignore[no-any-return]


def _json(status: int, body: Any) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


def _html(body: str) -> str:
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>YooKassa (local emulator)</title></head>"
        f"<body>{body}</body></html>"
    )


def main(argv: list[str] | None = None) -> None:
    args = command_line(
        "A local YooKassa API v3 emulator", 8093, argv, shop_id="100500", secret_key="test_emulator_secret"
    )
    serve(YookassaEmulator(args.shop_id, args.secret_key, deliverer_for(args)), args.port)


if __name__ == "__main__":
    main()
