"""A local Stripe: the subset of Stripe's API the product uses, for the official `stripe` SDK pointed at it.

Wire format as Stripe's: form-encoded request bodies (`line_items[0][price_data][currency]=eur`), JSON answers
with `object` fields and Stripe's id prefixes, `Authorization: Bearer sk_…` checked against the configured secret
key (401 otherwise), error bodies `{"error": {"type", "code", "message", "decline_code"?, "param"?}}` (402 for card
errors), and `Idempotency-Key` with Stripe's semantics: the same key with the same parameters replays the first
answer (`Idempotent-Replayed: true`) and takes no money twice; with other parameters it is 400 `idempotency_error`.

Served: customers, Checkout Sessions (with the hosted page at `/pay/<cs_id>`, whose Pay and Decline forms POST
back here and redirect 303 to the success or cancel URL), PaymentIntents (off-session, manual capture, capture,
cancel, confirm), refunds, payment methods, charges, events and subscriptions (the legacy Stripe-managed ones).
Webhooks are queued as Stripe sends them, signed `Stripe-Signature: t=<unix>,v1=<hex>` with every configured
webhook secret (two during a rotation).

Test cards: the hosted page pays with Visa 4242 unless its form sends another number (`4000000000000002` is
declined); the test payment methods `pm_card_visa` and `pm_card_chargeDeclined` work as in Stripe's test mode.

Control knobs — Python methods, and JSON under `/_emulator/`: `decline_off_session` (`POST /_emulator/decline`
`{"customer"?, "on"}`), `refund_from_dashboard` (`POST /_emulator/refunds` `{"payment_intent", "amount"?}`),
`cancel_refund` (`POST /_emulator/refunds/<id>/cancel`), `open_dispute` (`POST /_emulator/disputes`
`{"payment_intent", "reason"?}`), `expire_session` (`POST /_emulator/checkout/sessions/<id>/expire`),
`fail_next` (`POST /_emulator/fail` `{"count"?, "status"?}`), `set_webhook_secrets` (`PUT /_emulator/webhook-secrets`
`{"secrets": [...]}`), legacy subscriptions (`POST /_emulator/subscriptions` `{"customer", "amount", "currency"}`,
`POST /_emulator/subscriptions/<id>/renew|fail|delete`), `POST /_emulator/flush`, `GET /_emulator/state`.

`python -m infra.emulators.stripe --port 12111 --webhook-url http://127.0.0.1:8000/api/v1/plugins/stripe/webhook`
serves it for `make run`.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import html
import json
import re
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask import Response, redirect, request

from chalicelib.payments.stripe.amounts import ZERO_DECIMAL
from infra.emulators.base import Deliver, Emulator, command_line, deliverer_for, serve

API_VERSION = "2026-10-28.endive"
VISA = {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2034, "funding": "credit", "country": "US"}
DECLINED_CARD = {**VISA, "last4": "0002"}
TEST_METHODS = {"pm_card_visa": VISA, "pm_card_chargeDeclined": DECLINED_CARD}
CANCELLABLE = ("requires_payment_method", "requires_capture", "requires_confirmation", "requires_action", "processing")
SESSION_MIN_LIFETIME, SESSION_MAX_LIFETIME, SESSION_DEFAULT_LIFETIME = 30 * 60, 24 * 3600, 24 * 3600


class StripeFailure(Exception):
    """An answer of Stripe's error shape (raised inside a handler)."""

    def __init__(self, status: int, kind: str, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"error": {"type": kind, "message": message, **{k: v for k, v in fields.items() if v is not None}}}


@dataclass(frozen=True)
class _Stored:
    method: str
    path: str
    params: dict[str, Any]
    status: int
    body: dict[str, Any]


def parse_form(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's bracketed form encoding (`a[b][0][c]=v`, `expand[]=x`) into nested dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        head = key.split("[", 1)[0]
        path = [head, *re.findall(r"\[([^\]]*)\]", key)]
        node = root
        for i, part in enumerate(path):
            if part == "":
                part = str(len(node))
            if i == len(path) - 1:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    listed: dict[str, Any] = _listify(root)
    return listed


def _listify(value: Any) -> Any:
    if isinstance(value, dict):
        items = {k: _listify(v) for k, v in value.items()}
        if items and all(k.isdigit() for k in items):
            return [items[k] for k in sorted(items, key=int)]
        return items
    return value


def _flag(value: Any) -> bool:
    return str(value).lower() == "true"


SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}


def format_minor(amount: int, currency: str) -> str:
    """An amount as Stripe's messages show it (`€12.05`, `¥301`, `12.05 CHF`)."""
    code = currency.upper()
    sign, amount = ("-", -amount) if amount < 0 else ("", amount)
    number = str(amount) if code in ZERO_DECIMAL else f"{amount // 100}.{amount % 100:02d}"
    symbol = SYMBOLS.get(code)
    return f"{sign}{symbol}{number}" if symbol else f"{sign}{number} {code}"


def signature_header(body: bytes, secrets_: Iterable[str], timestamp: int | None = None) -> str:
    """Stripe's `Stripe-Signature`: `t=<unix seconds>` and one `v1=` HMAC-SHA256 of `<t>.<body>` per secret."""
    t = int(time.time()) if timestamp is None else timestamp
    signed = f"{t}.".encode() + body
    values = [hmac.new(s.encode(), signed, hashlib.sha256).hexdigest() for s in secrets_]
    return ",".join([f"t={t}", *(f"v1={v}" for v in values)])


class StripeEmulator(Emulator):
    code = "stripe"

    def __init__(
        self,
        deliver: Deliver | None = None,
        *,
        secret_key: str = "sk_test_emulator",  # noqa: S107 - the emulator's own test key
        publishable_key: str = "pk_test_emulator",
        webhook_secret: str = "whsec_emulator",  # noqa: S107 - the emulator's own test secret
    ) -> None:
        self.secret_key = secret_key
        self.publishable_key = publishable_key
        self.webhook_secrets = [webhook_secret]
        self.objects: dict[str, dict[str, Any]] = {}
        self.session_options: dict[str, dict[str, Any]] = {}  # cs id → payment_intent_data, line items
        self.idempotency: dict[tuple[str, str], _Stored] = {}
        self.declining_all = False
        self.declining: set[str] = set()  # customers whose off-session charges are declined
        self._failures: list[int] = []
        self.calls: list[tuple[str, str]] = []  # (method, path) of every API call, for tests
        super().__init__(deliver)

    # --- ids, objects, events --------------------------------------------------------------------------------------

    @staticmethod
    def new_id(prefix: str) -> str:
        return f"{prefix}_{secrets.token_hex(12)}"

    def _put(self, obj: dict[str, Any]) -> dict[str, Any]:
        self.objects[obj["id"]] = obj
        return obj

    def _get(self, object_id: str, kind: str) -> dict[str, Any]:
        obj = self.objects.get(object_id)
        if obj is None or obj.get("object") != kind:
            raise StripeFailure(
                404,
                "invalid_request_error",
                f"No such {kind}: '{object_id}'",
                code="resource_missing",
                param="id",
            )
        return obj

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        with self.lock:
            return [copy.deepcopy(o) for o in self.objects.values() if o.get("object") == kind]

    def emit(self, event_type: str, obj: dict[str, Any], previous: dict[str, Any] | None = None) -> dict[str, Any]:
        """Record an event (retrievable at `/v1/events/<id>`) and queue its webhook, signed Stripe's way."""
        data: dict[str, Any] = {"object": copy.deepcopy(obj)}
        if previous is not None:
            data["previous_attributes"] = previous
        event = self._put(
            {
                "id": self.new_id("evt"),
                "object": "event",
                "api_version": API_VERSION,
                "created": int(time.time()),
                "data": data,
                "livemode": False,
                "pending_webhooks": 1,
                "request": {"id": None, "idempotency_key": None},
                "type": event_type,
            }
        )
        body = json.dumps(event).encode()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            "Stripe-Signature": signature_header(body, self.webhook_secrets),
        }
        self.enqueue(headers, body)
        return event

    def events_of(self, event_type: str | None = None) -> list[dict[str, Any]]:
        return [e for e in self.of_kind("event") if event_type is None or e["type"] == event_type]

    # --- knobs ---------------------------------------------------------------------------------------------------

    def decline_off_session(self, customer: str | None = None, on: bool = True) -> None:
        """Decline future off-session charges: of one customer, or of everyone (`customer` None)."""
        with self.lock:
            if customer is None:
                self.declining_all = on
                if not on:
                    self.declining.clear()
            elif on:
                self.declining.add(customer)
            else:
                self.declining.discard(customer)

    def fail_next(self, count: int = 1, status: int = 500) -> None:
        """The next `count` API calls answer `status` (an outage), with `Stripe-Should-Retry: false`."""
        with self.lock:
            self._failures.extend([status] * count)

    def set_webhook_secrets(self, secrets_: list[str]) -> None:
        """Sign webhooks with each of these (a rotation: old and new, two `v1=` values in one header)."""
        with self.lock:
            self.webhook_secrets = list(secrets_)

    def expire_session(self, session_id: str) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy(self._expire(self._get(session_id, "checkout.session")))

    def refund_from_dashboard(self, payment_intent: str, amount: int | None = None) -> dict[str, Any]:
        """A refund made in Stripe's dashboard (provider-initiated, §7.3): no metadata of ours."""
        with self.lock:
            params: dict[str, Any] = {"payment_intent": payment_intent}
            if amount is not None:
                params["amount"] = str(amount)
            return copy.deepcopy(self._refund(params))

    def cancel_refund(self, refund_id: str) -> dict[str, Any]:
        """The dashboard cancels a refund (§7.4): `refund.updated` with status `canceled`, the money back on."""
        with self.lock:
            refund = self._get(refund_id, "refund")
            if refund["status"] == "canceled":
                raise StripeFailure(400, "invalid_request_error", "This refund has already been canceled.")
            previous = {"status": refund["status"]}
            refund["status"] = "canceled"
            charge = self._get(refund["charge"], "charge")
            charge["amount_refunded"] -= refund["amount"]
            charge["refunded"] = charge["amount_refunded"] >= charge["amount_captured"]
            self.emit("refund.updated", refund, previous)
            return copy.deepcopy(refund)

    def open_dispute(self, payment_intent: str, reason: str = "fraudulent") -> dict[str, Any]:
        with self.lock:
            intent = self._get(payment_intent, "payment_intent")
            charge = self._get(intent["latest_charge"], "charge")
            charge["disputed"] = True
            dispute = self._put(
                {
                    "id": self.new_id("dp"),
                    "object": "dispute",
                    "amount": charge["amount_captured"],
                    "charge": charge["id"],
                    "currency": charge["currency"],
                    "created": int(time.time()),
                    "livemode": False,
                    "metadata": {},
                    "payment_intent": intent["id"],
                    "reason": reason,
                    "status": "needs_response",
                }
            )
            self.emit("charge.dispute.created", dispute)
            return copy.deepcopy(dispute)

    def confirm_intent(self, payment_intent: str, payment_method: str = "pm_card_visa") -> dict[str, Any]:
        """What Stripe.js does for a PaymentIntent's client secret: confirm it with a card (manual capture)."""
        with self.lock:
            try:
                return copy.deepcopy(self._confirm(self._get(payment_intent, "payment_intent"), payment_method))
            except StripeFailure:
                return copy.deepcopy(self.objects[payment_intent])

    def create_subscription(
        self, customer: str, amount: int, currency: str = "eur", interval: str = "month"
    ) -> dict[str, Any]:
        """A legacy Stripe-managed subscription (created before this product)."""
        with self.lock:
            now = int(time.time())
            sub = self._put(
                {
                    "id": self.new_id("sub"),
                    "object": "subscription",
                    "customer": customer,
                    "status": "active",
                    "cancel_at_period_end": False,
                    "canceled_at": None,
                    "created": now,
                    "currency": currency,
                    "livemode": False,
                    "metadata": {},
                    "items": {
                        "object": "list",
                        "data": [
                            {
                                "object": "subscription_item",
                                "id": self.new_id("si"),
                                "current_period_start": now,
                                "current_period_end": now + 30 * 86400,
                                "price": {
                                    "object": "price",
                                    "id": self.new_id("price"),
                                    "currency": currency,
                                    "unit_amount": amount,
                                    "recurring": {"interval": interval, "interval_count": 1},
                                },
                                "quantity": 1,
                            }
                        ],
                        "has_more": False,
                    },
                }
            )
            return copy.deepcopy(sub)

    def subscription_invoice(self, subscription: str, *, paid: bool = True) -> dict[str, Any]:
        """The subscription's next cycle invoiced: `invoice.paid` (billing_reason `subscription_cycle`), or
        `invoice.payment_failed`."""
        with self.lock:
            sub = self._get(subscription, "subscription")
            item = sub["items"]["data"][0]
            amount = item["price"]["unit_amount"]
            invoice = self._put(
                {
                    "id": self.new_id("in"),
                    "object": "invoice",
                    "amount_due": amount,
                    "amount_paid": amount if paid else 0,
                    "amount_remaining": 0 if paid else amount,
                    "attempt_count": 1,
                    "billing_reason": "subscription_cycle",
                    "created": int(time.time()),
                    "currency": sub["currency"],
                    "customer": sub["customer"],
                    "livemode": False,
                    "metadata": {},
                    "parent": {
                        "type": "subscription_details",
                        "quote_details": None,
                        "subscription_details": {"metadata": sub["metadata"], "subscription": sub["id"]},
                    },
                    "period_start": item["current_period_start"],
                    "period_end": item["current_period_end"],
                    "status": "paid" if paid else "open",
                    "total": amount,
                }
            )
            if paid:
                item["current_period_start"] = item["current_period_end"]
                item["current_period_end"] += 30 * 86400
                sub["status"] = "active"
            else:
                sub["status"] = "past_due"
            self.emit("invoice.paid" if paid else "invoice.payment_failed", invoice)
            return copy.deepcopy(invoice)

    def delete_subscription(self, subscription: str) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy(self._cancel_subscription(self._get(subscription, "subscription")))

    # --- routes --------------------------------------------------------------------------------------------------

    def routes(self) -> None:
        app = self.app
        api = self._api

        api("POST", "/v1/customers", self._create_customer)
        api("GET", "/v1/customers", self._list_customers)
        api("GET", "/v1/customers/<object_id>", lambda p, object_id: self._get(object_id, "customer"))
        api("POST", "/v1/customers/<object_id>", self._update_customer)
        api("POST", "/v1/checkout/sessions", self._create_session)
        api("GET", "/v1/checkout/sessions/<object_id>", self._read_session)
        api("POST", "/v1/checkout/sessions/<object_id>/expire", self._expire_route)
        api("POST", "/v1/payment_intents", self._create_intent)
        api("GET", "/v1/payment_intents/<object_id>", lambda p, object_id: self._get(object_id, "payment_intent"))
        api("POST", "/v1/payment_intents/<object_id>/confirm", self._confirm_route)
        api("POST", "/v1/payment_intents/<object_id>/capture", self._capture)
        api("POST", "/v1/payment_intents/<object_id>/cancel", self._cancel_intent)
        api("POST", "/v1/refunds", self._refund)
        api("GET", "/v1/refunds", self._list_refunds)
        api("GET", "/v1/refunds/<object_id>", lambda p, object_id: self._get(object_id, "refund"))
        api("GET", "/v1/charges/<object_id>", lambda p, object_id: self._get(object_id, "charge"))
        api("GET", "/v1/payment_methods/<object_id>", self._read_method)
        api("GET", "/v1/events/<object_id>", lambda p, object_id: self._get(object_id, "event"))
        api("GET", "/v1/subscriptions/<object_id>", lambda p, object_id: self._get(object_id, "subscription"))
        api("POST", "/v1/subscriptions/<object_id>", self._update_subscription)
        api("DELETE", "/v1/subscriptions/<object_id>", self._delete_subscription_route)

        app.add_url_rule("/pay/<object_id>", "page", self._page, methods=["GET"])
        app.add_url_rule("/pay/<object_id>/<action>", "page_action", self._page_action, methods=["POST"])
        self._control_routes()

    def _api(self, method: str, rule: str, handler: Callable[..., dict[str, Any]]) -> None:
        def view(**path: str) -> Response:
            return self._serve(method, handler, path)

        self.app.add_url_rule(rule, f"{method} {rule}", view, methods=[method])

    def _serve(self, method: str, handler: Callable[..., dict[str, Any]], path: dict[str, str]) -> Response:
        with self.lock:
            self.calls.append((method, request.path))
            if self._failures:
                status = self._failures.pop(0)
                body = {"error": {"type": "api_error", "message": "An unknown error occurred on Stripe's end."}}
                return self._answer(status, body, {"Stripe-Should-Retry": "false"})
            key = self._api_key()
            if key is None:
                return self._answer(401, _missing_key())
            if key != self.secret_key:
                return self._answer(401, _invalid_key(key))
            if method == "GET":
                params = parse_form(request.args.items(multi=True))
            else:
                params = parse_form(request.form.items(multi=True))
            expand = [str(x) for x in params.pop("expand", [])]
            idem = request.headers.get("Idempotency-Key") if method == "POST" else None
            if idem:
                stored = self.idempotency.get((key, idem))
                if stored is not None:
                    if stored.method == method and stored.path == request.path and stored.params == params:
                        return self._answer(stored.status, stored.body, {"Idempotent-Replayed": "true"})
                    return self._answer(
                        400,
                        {
                            "error": {
                                "type": "idempotency_error",
                                "message": "Keys for idempotent requests can only be used with the same parameters "
                                f"they were first used with. Try using a key other than '{idem}' if you meant to "
                                "execute a different request.",
                            }
                        },
                    )
            try:
                status, body = 200, copy.deepcopy(handler(params, **path))
                body = self._expand(body, expand)
            except StripeFailure as failure:
                status, body = failure.status, failure.body
            if idem and status != 400:
                # Stripe saves the answer of a request that began executing (its card errors too), not a refused one.
                self.idempotency[(key, idem)] = _Stored(method, request.path, params, status, body)
            return self._answer(status, body)

    @staticmethod
    def _api_key() -> str | None:
        auth = request.authorization
        if auth is not None:
            if auth.type == "bearer" and auth.token:
                return str(auth.token)
            if auth.type == "basic" and auth.username:
                return str(auth.username)
        return None

    @staticmethod
    def _answer(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
        answer = Response(json.dumps(body), status=status, mimetype="application/json")
        answer.headers["Request-Id"] = f"req_{secrets.token_hex(7)}"
        answer.headers["Stripe-Version"] = API_VERSION
        for name, value in (headers or {}).items():
            answer.headers[name] = value
        return answer

    def _expand(self, body: dict[str, Any], paths: list[str]) -> dict[str, Any]:
        for path in paths:
            node: Any = body
            parts = path.split(".")
            for part in parts:
                if not isinstance(node, dict):
                    break
                value = node.get(part)
                if isinstance(value, str) and value in self.objects:
                    node[part] = copy.deepcopy(self.objects[value])
                    value = node[part]
                node = value
        return body

    # --- customers -------------------------------------------------------------------------------------------------

    def _create_customer(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._put(
            {
                "id": self.new_id("cus"),
                "object": "customer",
                "created": int(time.time()),
                "email": params.get("email"),
                "name": params.get("name"),
                "description": params.get("description"),
                "livemode": False,
                "metadata": params.get("metadata") or {},
                "invoice_settings": {"default_payment_method": None},
            }
        )

    def _list_customers(self, params: dict[str, Any]) -> dict[str, Any]:
        found = [o for o in self.objects.values() if o.get("object") == "customer"]
        if params.get("email"):
            found = [o for o in found if o.get("email") == params["email"]]
        found.sort(key=lambda o: -int(o["created"]))
        limit = int(params.get("limit", 10))
        return {"object": "list", "data": found[:limit], "has_more": len(found) > limit, "url": "/v1/customers"}

    def _list_refunds(self, params: dict[str, Any]) -> dict[str, Any]:
        """`GET /v1/refunds?charge=…|payment_intent=…`, newest first (Stripe's order)."""
        found = [o for o in self.objects.values() if o.get("object") == "refund"]
        for name in ("charge", "payment_intent"):
            if params.get(name):
                found = [o for o in found if o.get(name) == params[name]]
        found.sort(key=lambda o: -int(o["created"]))
        limit = int(params.get("limit", 10))
        return {"object": "list", "data": found[:limit], "has_more": len(found) > limit, "url": "/v1/refunds"}

    def _update_customer(self, params: dict[str, Any], object_id: str) -> dict[str, Any]:
        customer = self._get(object_id, "customer")
        for name in ("email", "name", "description"):
            if name in params:
                customer[name] = params[name]
        if "metadata" in params:
            customer["metadata"] = {**customer["metadata"], **params["metadata"]}
        return customer

    # --- checkout sessions -----------------------------------------------------------------------------------------

    def _create_session(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("mode") != "payment":
            raise StripeFailure(400, "invalid_request_error", "This emulator serves `mode=payment` only.", param="mode")
        for name in ("success_url", "cancel_url"):
            if not params.get(name):
                raise StripeFailure(400, "invalid_request_error", f"Missing required param: {name}.", param=name)
        lines = params.get("line_items") or []
        if not isinstance(lines, list) or not lines:
            raise StripeFailure(
                400,
                "invalid_request_error",
                "You must specify `line_items` when using `payment` mode.",
                param="line_items",
            )
        currencies, total, items = set(), 0, []
        for n, line in enumerate(lines):
            price = line.get("price_data") or {}
            try:
                unit, quantity = int(price["unit_amount"]), int(line.get("quantity", 1))
            except (KeyError, ValueError):
                raise StripeFailure(
                    400,
                    "invalid_request_error",
                    "Invalid integer: unit_amount",
                    param=f"line_items[{n}][price_data][unit_amount]",
                ) from None
            if unit < 0 or quantity < 1:
                raise StripeFailure(
                    400,
                    "invalid_request_error",
                    "This value must be greater than or equal to 0.",
                    param=f"line_items[{n}][price_data][unit_amount]",
                )
            currencies.add(str(price.get("currency", "")).lower())
            total += unit * quantity
            name = (price.get("product_data") or {}).get("name", "")
            items.append({"description": name, "amount_total": unit * quantity, "quantity": quantity})
        if len(currencies) != 1 or "" in currencies:
            raise StripeFailure(
                400, "invalid_request_error", "All line items must have the same currency.", param="line_items"
            )
        currency = currencies.pop()
        now = int(time.time())
        expires_at = int(params.get("expires_at") or now + SESSION_DEFAULT_LIFETIME)
        if not now + SESSION_MIN_LIFETIME - 5 <= expires_at <= now + SESSION_MAX_LIFETIME + 5:
            raise StripeFailure(
                400,
                "invalid_request_error",
                "The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout Session creation.",
                param="expires_at",
            )
        customer = params.get("customer")
        if customer:
            self._get(customer, "customer")
        session_id = f"cs_test_{secrets.token_hex(24)}"
        self.session_options[session_id] = {
            "payment_intent_data": params.get("payment_intent_data") or {},
            "lines": items,
        }
        return self._put(
            {
                "id": session_id,
                "object": "checkout.session",
                "amount_subtotal": total,
                "amount_total": total,
                "cancel_url": params["cancel_url"],
                "client_reference_id": params.get("client_reference_id"),
                "created": now,
                "currency": currency,
                "customer": customer,
                "customer_email": params.get("customer_email"),
                "expires_at": expires_at,
                "livemode": False,
                "metadata": params.get("metadata") or {},
                "mode": "payment",
                "payment_intent": None,
                "payment_method_types": ["card"],
                "payment_status": "unpaid",
                "status": "open",
                "success_url": params["success_url"],
                "url": f"{request.host_url.rstrip('/')}/pay/{session_id}",
            }
        )

    def _read_session(self, params: dict[str, Any], object_id: str) -> dict[str, Any]:
        session = self._get(object_id, "checkout.session")
        if session["status"] == "open" and session["expires_at"] <= time.time():
            self._expire(session)
        return session

    def _expire_route(self, params: dict[str, Any], object_id: str) -> dict[str, Any]:
        return self._expire(self._get(object_id, "checkout.session"))

    def _expire(self, session: dict[str, Any]) -> dict[str, Any]:
        if session["status"] != "open":
            raise StripeFailure(
                400,
                "invalid_request_error",
                'Only Checkout Sessions with a status in ["open"] can be expired.',
            )
        session["status"] = "expired"
        self.emit("checkout.session.expired", session)
        return session

    def pay_session(self, session_id: str, card: str = "4242424242424242") -> dict[str, Any]:
        """What the hosted page's Pay does: the card charged (declined cards leave the session open)."""
        with self.lock:
            session = self._get(session_id, "checkout.session")
            if session["status"] == "open" and session["expires_at"] <= time.time():
                self._expire(session)
            if session["status"] != "open":
                raise StripeFailure(400, "invalid_request_error", "This Checkout Session is no longer active.")
            if card.replace(" ", "") != "4242424242424242":
                raise StripeFailure(402, "card_error", "Your card was declined.", code="card_declined")
            options = self.session_options.get(session_id, {}).get("payment_intent_data", {})
            saves = options.get("setup_future_usage") in ("off_session", "on_session")
            method = self._new_method(VISA, session["customer"] if saves else None)
            intent = self._new_intent(
                {
                    "amount": str(session["amount_total"]),
                    "currency": session["currency"],
                    "customer": session["customer"],
                    "metadata": options.get("metadata") or {},
                    "setup_future_usage": options.get("setup_future_usage"),
                    "capture_method": options.get("capture_method", "automatic_async"),
                }
            )
            intent["payment_method"] = method["id"]
            self._succeed(intent, method, emit=False)
            session["payment_intent"] = intent["id"]
            session["status"] = "complete"
            session["payment_status"] = "paid" if intent["status"] == "succeeded" else "unpaid"
            self.emit("checkout.session.completed", session)
            return copy.deepcopy(session)

    # --- payment methods, intents, charges -------------------------------------------------------------------------

    def _new_method(self, card: dict[str, Any], customer: str | None) -> dict[str, Any]:
        return self._put(
            {
                "id": self.new_id("pm"),
                "object": "payment_method",
                "type": "card",
                "card": dict(card),
                "created": int(time.time()),
                "customer": customer,
                "livemode": False,
                "metadata": {},
            }
        )

    def _read_method(self, params: dict[str, Any], object_id: str) -> dict[str, Any]:
        if object_id in TEST_METHODS:
            return self._method_for({}, object_id)
        return self._get(object_id, "payment_method")

    def _new_intent(self, params: dict[str, Any]) -> dict[str, Any]:
        try:
            amount = int(params["amount"])
        except (KeyError, ValueError):
            raise StripeFailure(
                400, "invalid_request_error", "Missing required param: amount.", param="amount"
            ) from None
        if amount < 1:
            raise StripeFailure(
                400, "invalid_request_error", "This value must be greater than or equal to 1.", param="amount"
            )
        if not params.get("currency"):
            raise StripeFailure(400, "invalid_request_error", "Missing required param: currency.", param="currency")
        customer = params.get("customer")
        if customer:
            self._get(customer, "customer")
        intent_id = self.new_id("pi")
        capture = params.get("capture_method") or "automatic_async"
        if capture not in ("automatic", "automatic_async", "manual"):
            raise StripeFailure(400, "invalid_request_error", "Invalid capture_method.", param="capture_method")
        return self._put(
            {
                "id": intent_id,
                "object": "payment_intent",
                "amount": amount,
                "amount_capturable": 0,
                "amount_received": 0,
                "canceled_at": None,
                "cancellation_reason": None,
                "capture_method": capture,
                "client_secret": f"{intent_id}_secret_{secrets.token_hex(12)}",
                "confirmation_method": "automatic",
                "created": int(time.time()),
                "currency": str(params["currency"]).lower(),
                "customer": customer,
                "description": params.get("description"),
                "last_payment_error": None,
                "latest_charge": None,
                "livemode": False,
                "metadata": params.get("metadata") or {},
                "payment_method": None,
                "payment_method_types": ["card"],
                "setup_future_usage": params.get("setup_future_usage"),
                "status": "requires_payment_method",
            }
        )

    def _create_intent(self, params: dict[str, Any]) -> dict[str, Any]:
        if _flag(params.get("off_session")) and not _flag(params.get("confirm")):
            raise StripeFailure(
                400,
                "invalid_request_error",
                "You may only specify `off_session` when confirming this PaymentIntent.",
                param="off_session",
            )
        intent = self._new_intent(params)
        method = params.get("payment_method")
        if method:
            self._method_for(intent, str(method))
            intent["payment_method"] = method
            intent["status"] = "requires_confirmation"
        if _flag(params.get("confirm")):
            return self._confirm(intent, method, off_session=_flag(params.get("off_session")))
        return intent

    def _method_for(self, intent: dict[str, Any], method_id: str) -> dict[str, Any]:
        if method_id in TEST_METHODS:
            return {"id": method_id, "object": "payment_method", "type": "card", "card": TEST_METHODS[method_id]}
        method = self.objects.get(method_id)
        if method is None or method.get("object") != "payment_method":
            raise StripeFailure(
                400,
                "invalid_request_error",
                f"No such PaymentMethod: '{method_id}'",
                code="resource_missing",
                param="payment_method",
            )
        if method.get("customer") and method["customer"] != intent.get("customer"):
            raise StripeFailure(
                400,
                "invalid_request_error",
                "The provided PaymentMethod belongs to a different Customer than the one on this PaymentIntent.",
                param="payment_method",
            )
        return method

    def _confirm_route(self, params: dict[str, Any], object_id: str) -> dict[str, Any]:
        intent = self._get(object_id, "payment_intent")
        return self._confirm(intent, params.get("payment_method"), off_session=_flag(params.get("off_session")))

    def _confirm(self, intent: dict[str, Any], method_id: str | None, *, off_session: bool = False) -> dict[str, Any]:
        if intent["status"] not in ("requires_payment_method", "requires_confirmation", "requires_action"):
            raise StripeFailure(
                400,
                "invalid_request_error",
                f"You cannot confirm this PaymentIntent because it has a status of {intent['status']}.",
                code="payment_intent_unexpected_state",
            )
        method_id = method_id or intent.get("payment_method")
        if not method_id:
            raise StripeFailure(
                400,
                "invalid_request_error",
                "You cannot confirm this PaymentIntent because it's missing a payment method.",
                code="payment_intent_unexpected_state",
            )
        method = self._method_for(intent, str(method_id))
        intent["payment_method"] = method_id
        declined = method["card"]["last4"] == DECLINED_CARD["last4"] or (
            off_session and (self.declining_all or intent.get("customer") in self.declining)
        )
        if declined:
            charge = self._new_charge(intent, method, succeeded=False)
            error = {
                "type": "card_error",
                "code": "card_declined",
                "decline_code": "generic_decline",
                "message": "Your card was declined.",
                "charge": charge["id"],
                "payment_method": copy.deepcopy(method),
            }
            intent.update(status="requires_payment_method", latest_charge=charge["id"], last_payment_error=error)
            self.emit("payment_intent.payment_failed", intent)
            raise StripeFailure(
                402,
                "card_error",
                "Your card was declined.",
                code="card_declined",
                decline_code="generic_decline",
                charge=charge["id"],
                payment_intent=copy.deepcopy(intent),
            )
        return self._succeed(intent, method)

    def _succeed(self, intent: dict[str, Any], method: dict[str, Any], *, emit: bool = True) -> dict[str, Any]:
        intent["last_payment_error"] = None
        if intent["capture_method"] == "manual":
            charge = self._new_charge(intent, method, succeeded=True, captured=False)
            intent.update(status="requires_capture", amount_capturable=intent["amount"], latest_charge=charge["id"])
            if emit:
                self.emit("payment_intent.amount_capturable_updated", intent)
            return intent
        charge = self._new_charge(intent, method, succeeded=True)
        intent.update(status="succeeded", amount_received=intent["amount"], latest_charge=charge["id"])
        if emit:
            self.emit("payment_intent.succeeded", intent)
        return intent

    def _new_charge(
        self, intent: dict[str, Any], method: dict[str, Any], *, succeeded: bool, captured: bool = True
    ) -> dict[str, Any]:
        return self._put(
            {
                "id": self.new_id("ch"),
                "object": "charge",
                "amount": intent["amount"],
                "amount_captured": intent["amount"] if succeeded and captured else 0,
                "amount_refunded": 0,
                "captured": succeeded and captured,
                "created": int(time.time()),
                "currency": intent["currency"],
                "customer": intent.get("customer"),
                "disputed": False,
                "failure_code": None if succeeded else "card_declined",
                "failure_message": None if succeeded else "Your card was declined.",
                "livemode": False,
                "metadata": dict(intent.get("metadata") or {}),
                "paid": succeeded,
                "payment_intent": intent["id"],
                "payment_method": method["id"],
                "payment_method_details": {"type": "card", "card": dict(method["card"])},
                "refunded": False,
                "status": "succeeded" if succeeded else "failed",
            }
        )

    def _capture(self, params: dict[str, Any], object_id: str) -> dict[str, Any]:
        intent = self._get(object_id, "payment_intent")
        if intent["status"] != "requires_capture":
            raise StripeFailure(
                400,
                "invalid_request_error",
                f"This PaymentIntent could not be captured because it has a status of {intent['status']}. Only a "
                "PaymentIntent with one of the following statuses may be captured: requires_capture.",
                code="payment_intent_unexpected_state",
            )
        amount = int(params.get("amount_to_capture") or intent["amount_capturable"])
        if amount > intent["amount_capturable"]:
            raise StripeFailure(
                400,
                "invalid_request_error",
                "The amount to capture must be less than or equal to the amount capturable.",
                param="amount_to_capture",
            )
        charge = self._get(intent["latest_charge"], "charge")
        charge.update(captured=True, amount_captured=amount)
        intent.update(status="succeeded", amount_received=amount, amount_capturable=0)
        self.emit("payment_intent.succeeded", intent)
        return intent

    def _cancel_intent(self, params: dict[str, Any], object_id: str) -> dict[str, Any]:
        intent = self._get(object_id, "payment_intent")
        if intent["status"] not in CANCELLABLE:
            raise StripeFailure(
                400,
                "invalid_request_error",
                f"You cannot cancel this PaymentIntent because it has a status of {intent['status']}. Only a "
                f"PaymentIntent with one of the following statuses may be canceled: {', '.join(CANCELLABLE)}.",
                code="payment_intent_unexpected_state",
            )
        intent.update(
            status="canceled",
            canceled_at=int(time.time()),
            cancellation_reason=params.get("cancellation_reason") or "requested_by_customer",
            amount_capturable=0,
        )
        self.emit("payment_intent.canceled", intent)
        return intent

    # --- refunds ---------------------------------------------------------------------------------------------------

    def _refund(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("payment_intent"):
            intent = self._get(str(params["payment_intent"]), "payment_intent")
            if intent["status"] != "succeeded" or not intent.get("latest_charge"):
                raise StripeFailure(
                    400,
                    "invalid_request_error",
                    f"This PaymentIntent ({intent['id']}) does not have a successful charge to refund.",
                    param="payment_intent",
                )
            charge = self._get(intent["latest_charge"], "charge")
        elif params.get("charge"):
            charge = self._get(str(params["charge"]), "charge")
        else:
            raise StripeFailure(
                400, "invalid_request_error", "One of `charge` or `payment_intent` is required.", param="charge"
            )
        remaining = charge["amount_captured"] - charge["amount_refunded"]
        if remaining <= 0:
            raise StripeFailure(
                400,
                "invalid_request_error",
                f"Charge {charge['id']} has already been refunded.",
                code="charge_already_refunded",
            )
        amount = int(params.get("amount") or remaining)
        if amount < 1:
            raise StripeFailure(
                400, "invalid_request_error", "This value must be greater than or equal to 1.", param="amount"
            )
        if amount > remaining:
            raise StripeFailure(
                400,
                "invalid_request_error",
                f"Refund amount ({format_minor(amount, charge['currency'])}) is greater than unrefunded amount on "
                f"charge ({format_minor(remaining, charge['currency'])})",
                code="amount_too_large",
                param="amount",
            )
        refund = self._put(
            {
                "id": self.new_id("re"),
                "object": "refund",
                "amount": amount,
                "charge": charge["id"],
                "created": int(time.time()),
                "currency": charge["currency"],
                "metadata": params.get("metadata") or {},
                "payment_intent": charge["payment_intent"],
                "reason": params.get("reason"),
                "status": "succeeded",
            }
        )
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] >= charge["amount_captured"]
        self.emit("charge.refunded", charge, {"amount_refunded": charge["amount_refunded"] - amount})
        return refund

    # --- subscriptions (legacy) ------------------------------------------------------------------------------------

    def _update_subscription(self, params: dict[str, Any], object_id: str) -> dict[str, Any]:
        sub = self._get(object_id, "subscription")
        if "cancel_at_period_end" in params:
            sub["cancel_at_period_end"] = _flag(params["cancel_at_period_end"])
        if "metadata" in params:
            sub["metadata"] = {**sub["metadata"], **params["metadata"]}
        return sub

    def _delete_subscription_route(self, params: dict[str, Any], object_id: str) -> dict[str, Any]:
        return self._cancel_subscription(self._get(object_id, "subscription"))

    def _cancel_subscription(self, sub: dict[str, Any]) -> dict[str, Any]:
        if sub["status"] == "canceled":
            raise StripeFailure(
                404,
                "invalid_request_error",
                f"No such subscription: '{sub['id']}'",
                code="resource_missing",
                param="id",
            )
        sub.update(status="canceled", canceled_at=int(time.time()))
        self.emit("customer.subscription.deleted", sub)
        return sub

    # --- the hosted page -------------------------------------------------------------------------------------------

    def _page(self, object_id: str) -> Response:
        with self.lock:
            obj = self.objects.get(object_id)
            if obj is None or obj.get("object") not in ("checkout.session", "payment_intent"):
                return Response("<h1>Not found</h1>", status=404, mimetype="text/html")
            if obj["object"] == "checkout.session" and obj["status"] == "open" and obj["expires_at"] <= time.time():
                self._expire(obj)
            amount = obj["amount_total"] if obj["object"] == "checkout.session" else obj["amount"]
            is_open = obj["status"] in ("open", "requires_payment_method", "requires_confirmation")
            title = html.escape(format_minor(amount, obj["currency"]))
            lines = "".join(
                f"<li>{html.escape(str(item['description']))}: "
                f"{html.escape(format_minor(item['amount_total'], obj['currency']))}</li>"
                for item in self.session_options.get(object_id, {}).get("lines", [])
            )
        if not is_open:
            page = f"<h1>This payment page is no longer active</h1><p>Status: {html.escape(obj['status'])}</p>"
            return Response(_html(page), status=410, mimetype="text/html")
        safe_id = html.escape(object_id)
        page = (
            f'<h1>Pay <span id="amount">{title}</span></h1><ul>{lines}</ul>'
            f'<form method="post" action="/pay/{safe_id}/pay"><input type="hidden" name="card" '
            'value="4242424242424242"><p>Visa •••• 4242</p><button id="pay" type="submit">Pay</button></form>'
            f'<form method="post" action="/pay/{safe_id}/decline"><button id="decline" type="submit">Decline'
            "</button></form>"
        )
        return Response(_html(page), mimetype="text/html")

    def _page_action(self, object_id: str, action: str) -> Response | Any:
        if action not in ("pay", "decline"):
            return Response("<h1>Not found</h1>", status=404, mimetype="text/html")
        with self.lock:
            obj = self.objects.get(object_id)
            if obj is None:
                return Response("<h1>Not found</h1>", status=404, mimetype="text/html")
            card = request.form.get("card", "4242424242424242") if action == "pay" else "4000000000000002"
            try:
                if obj["object"] == "payment_intent":
                    method = "pm_card_visa" if action == "pay" else "pm_card_chargeDeclined"
                    self._confirm(obj, method)
                    return Response(_html("<h1>Payment authorized</h1>"), mimetype="text/html")
                self.pay_session(object_id, card)
            except StripeFailure as failure:
                if failure.status != 402:
                    return Response(_html(f"<h1>{html.escape(str(failure))}</h1>"), status=410, mimetype="text/html")
                if obj["object"] == "payment_intent":
                    return Response(_html("<h1>Your card was declined.</h1>"), status=402, mimetype="text/html")
                return redirect(obj["cancel_url"], code=303)
            return redirect(obj["success_url"].replace("{CHECKOUT_SESSION_ID}", object_id), code=303)

    # --- the control API -------------------------------------------------------------------------------------------

    def _control_routes(self) -> None:
        app = self.app

        def control(rule: str, method: str, action: Callable[..., Any]) -> None:
            def view(**path: str) -> Response:
                body = request.get_json(silent=True) or {}
                try:
                    result = action(body, **path)
                except StripeFailure as failure:
                    return self._answer(failure.status, failure.body)
                return self._answer(200, result if isinstance(result, dict) else {"ok": True})

            app.add_url_rule(rule, f"control {method} {rule}", view, methods=[method])

        control("/_emulator/decline", "POST", lambda b: self.decline_off_session(b.get("customer"), b.get("on", True)))
        control("/_emulator/fail", "POST", lambda b: self.fail_next(int(b.get("count", 1)), int(b.get("status", 500))))
        control("/_emulator/webhook-secrets", "PUT", lambda b: self.set_webhook_secrets(list(b["secrets"])))
        control(
            "/_emulator/refunds",
            "POST",
            lambda b: self.refund_from_dashboard(b["payment_intent"], b.get("amount")),
        )
        control("/_emulator/refunds/<refund_id>/cancel", "POST", lambda b, refund_id: self.cancel_refund(refund_id))
        control(
            "/_emulator/disputes",
            "POST",
            lambda b: self.open_dispute(b["payment_intent"], b.get("reason", "fraudulent")),
        )
        control(
            "/_emulator/checkout/sessions/<session_id>/expire",
            "POST",
            lambda b, session_id: self.expire_session(session_id),
        )
        control(
            "/_emulator/subscriptions",
            "POST",
            lambda b: self.create_subscription(b["customer"], int(b["amount"]), b.get("currency", "eur")),
        )
        control(
            "/_emulator/subscriptions/<sub_id>/<action>",
            "POST",
            lambda b, sub_id, action: self._subscription_action(sub_id, action),
        )
        control("/_emulator/flush", "POST", lambda b: {"delivered": len(self.flush())})
        control("/_emulator/state", "GET", lambda b: self.state())

    def _subscription_action(self, sub_id: str, action: str) -> dict[str, Any]:
        if action == "renew":
            return self.subscription_invoice(sub_id, paid=True)
        if action == "fail":
            return self.subscription_invoice(sub_id, paid=False)
        if action == "delete":
            return self.delete_subscription(sub_id)
        raise StripeFailure(404, "invalid_request_error", f"Unknown action {action}")

    def state(self) -> dict[str, Any]:
        with self.lock:
            counts: dict[str, int] = {}
            for obj in self.objects.values():
                counts[obj["object"]] = counts.get(obj["object"], 0) + 1
            return {
                "objects": counts,
                "pending_webhooks": len(self._outbox),
                "delivered_webhooks": len(self.delivered),
                "declining_all": self.declining_all,
                "declining": sorted(self.declining),
            }


def _missing_key() -> dict[str, Any]:
    return {
        "error": {
            "type": "invalid_request_error",
            "message": "You did not provide an API key. You need to provide your API key in the Authorization "
            "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See "
            "https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
        }
    }


def _invalid_key(key: str) -> dict[str, Any]:
    masked = key[:8] + "*" * max(len(key) - 12, 4) + key[-4:] if len(key) > 12 else "*" * len(key)
    return {"error": {"type": "invalid_request_error", "message": f"Invalid API Key provided: {masked}"}}


def _html(body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Stripe Checkout (local emulator)'
        f"</title></head><body>{body}</body></html>"
    )


def main(argv: list[str] | None = None) -> None:
    args = command_line(
        "A local Stripe API emulator (loopback only).",
        12111,
        argv,
        secret_key="sk_test_emulator",
        webhook_secret="whsec_emulator",
    )
    emulator = StripeEmulator(deliverer_for(args), secret_key=args.secret_key, webhook_secret=args.webhook_secret)
    serve(emulator, args.port)


if __name__ == "__main__":
    main()
