"""A local PayPal: the subset of the PayPal REST API the product uses, for `make run` and the tests.

Wire format as PayPal's (Orders v2, Payments v2, OAuth 2 client credentials, Notifications v1): JSON bodies, error
bodies `{"name", "message", "debug_id", "details": [{"issue", "description", …}], "links"}`, `PayPal-Request-Id`
idempotency (a request id seen before on the same endpoint answers what it answered the first time and does nothing
again), `Prefer: return=minimal` (the default of writes) or `return=representation`, bearer tokens from
`POST /v1/oauth2/token` (a wrong client secret is refused with 401 `invalid_client`).

The hosted approval page `/checkoutnow?token=<order id>` approves the order (→ `APPROVED`, redirect 303 to the
return URL with `token` and `PayerID` appended, as PayPal does; webhook `CHECKOUT.ORDER.APPROVED`) or sends the
buyer to the cancel URL. Webhooks are signed the PayPal way: SHA256withRSA over
`<transmission id>|<transmission time>|<webhook id>|<CRC32 of the raw body>`, the certificate served at the
`PAYPAL-CERT-URL` (a loopback URL of this emulator), and `POST /v1/notifications/verify-webhook-signature` checks
the signature against the exact bytes of the `webhook_event` it is sent and answers SUCCESS or FAILURE honestly.

Control knobs (Python methods and `/_emulator/...` JSON routes): decline future off-session (vault) charges for one
customer or all, refund a capture from the "dashboard", void an authorization from the "dashboard", expire an
order, fail the next API calls with a 5xx, flush the webhooks.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import html
import json
import secrets
import string
import threading
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from flask import Response, redirect, request

from infra.emulators.base import Deliver, Emulator, command_line, deliverer_for, serve

ZERO_DECIMAL = frozenset({"JPY", "HUF", "TWD"})  # PayPal's currencies without a fractional part
AUTH_ALGO = "SHA256withRSA"
CERT_NAME = "CERT-360caa42-fca2a594-local"
CERT_PATH = f"/v1/notifications/certs/{CERT_NAME}"
TOKEN_LIFETIME = 32400
_ALNUM = string.ascii_uppercase + string.digits
# What PayPal answers (issue, description) to a capture or a void of an authorization in these states.
CAPTURE_REFUSALS = {
    "CAPTURED": ("AUTHORIZATION_ALREADY_CAPTURED", "Authorization has been previously captured."),
    "VOIDED": ("AUTHORIZATION_VOIDED", "A voided authorization cannot be captured."),
}
VOID_REFUSALS = {
    "CAPTURED": ("PREVIOUSLY_CAPTURED", "Authorization has been previously captured."),
    "VOIDED": ("PREVIOUSLY_VOIDED", "Authorization has been previously voided."),
}


def paypal_id(length: int = 17) -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(length))


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def places(currency: str) -> int:
    return 0 if currency in ZERO_DECIMAL else 2


def money(value: Decimal, currency: str) -> dict[str, str]:
    return {"currency_code": currency, "value": f"{value.quantize(Decimal(1).scaleb(-places(currency))):f}"}


def crc32(body: bytes) -> int:
    return zlib.crc32(body) & 0xFFFFFFFF


def signed_string(transmission_id: str, transmission_time: str, webhook_id: str, body: bytes) -> bytes:
    """What PayPal signs for a webhook delivery."""
    return f"{transmission_id}|{transmission_time}|{webhook_id}|{crc32(body)}".encode()


@cache
def _signing_key() -> Any:
    """One RSA key and its self-signed certificate for this process (generating one takes tens of ms)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "messageverificationcerts.local.paypal")])
    start = datetime.now(UTC) - timedelta(days=1)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    return key, cert.public_bytes(serialization.Encoding.PEM)


def sign(message: bytes) -> str:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    key, _ = _signing_key()
    return base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()


def signature_matches(message: bytes, signature: str) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    key, _ = _signing_key()
    try:
        key.public_key().verify(
            base64.b64decode(signature, validate=True), message, padding.PKCS1v15(), hashes.SHA256()
        )
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True


def member_spans(text: str) -> dict[str, tuple[int, int]]:
    """Where each top-level member's value of a JSON object lies in `text`: the exact characters a member was sent
    as (verification hashes the `webhook_event` as sent, not as re-serialized)."""
    decoder = json.JSONDecoder()
    ws = " \t\n\r"
    spans: dict[str, tuple[int, int]] = {}
    i = len(text) - len(text.lstrip(ws))
    if text[i : i + 1] != "{":
        raise ValueError("not an object")
    i += 1
    while True:
        while text[i] in ws:
            i += 1
        if text[i] == "}":
            return spans
        key, i = json.decoder.scanstring(text, i + 1)  # type: ignore[attr-defined]
        while text[i] in ws:
            i += 1
        if text[i] != ":":
            raise ValueError("expected ':'")
        i += 1
        while text[i] in ws:
            i += 1
        _, end = decoder.raw_decode(text, i)
        spans[key] = (i, end)
        i = end
        while text[i] in ws:
            i += 1
        if text[i] == ",":
            i += 1
        elif text[i] != "}":
            raise ValueError("expected ',' or '}'")


class PayPalFailure(Exception):
    """An API answer that is an error: the status and PayPal's error body."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body.get("message"))
        self.status = status
        self.body = body


def error(status: int, name: str, message: str, issue: str | None = None, description: str = "") -> PayPalFailure:
    body: dict[str, Any] = {"name": name, "message": message, "debug_id": secrets.token_hex(7)[:13]}
    if issue:
        body["details"] = [{"issue": issue, "description": description or message}]
        body["links"] = [
            {
                "href": f"https://developer.paypal.com/api/rest/reference/orders/v2/errors/#{issue.lower()}",
                "rel": "information_link",
                "method": "GET",
            }
        ]
    return PayPalFailure(status, body)


def unprocessable(issue: str, description: str) -> PayPalFailure:
    return error(
        422,
        "UNPROCESSABLE_ENTITY",
        "The requested action could not be performed, semantically incorrect, or failed business validation.",
        issue,
        description,
    )


def invalid_request(issue: str, description: str) -> PayPalFailure:
    return error(
        400, "INVALID_REQUEST", "Request is not well-formed, syntactically incorrect, or violates schema.", issue,
        description,
    )  # fmt: skip


def not_found() -> PayPalFailure:
    return error(
        404,
        "RESOURCE_NOT_FOUND",
        "The specified resource does not exist.",
        "INVALID_RESOURCE_ID",
        "Specified resource ID does not exist. Please check the resource ID and try again.",
    )


@dataclass
class Vault:
    id: str
    customer_id: str
    email: str
    payer_id: str


@dataclass
class Order:
    id: str
    intent: str
    amount: Decimal
    currency: str
    custom_id: str | None
    invoice_id: str | None
    description: str | None
    return_url: str | None
    cancel_url: str | None
    vault_requested: bool
    customer_id: str | None
    status: str = "CREATED"
    payer: dict[str, Any] | None = None
    vault: Vault | None = None
    captures: list[str] = field(default_factory=list)
    authorizations: list[str] = field(default_factory=list)
    has_payment_source: bool = False
    create_time: str = field(default_factory=now_iso)
    update_time: str = field(default_factory=now_iso)


class PayPalEmulator(Emulator):
    code = "paypal"

    def __init__(
        self,
        client_id: str = "emulator-client-id",
        client_secret: str = "emulator-client-secret",  # noqa: S107 - the emulator's own test key
        webhook_id: str = "WH-EMULATOR-0001",
        deliver: Deliver | None = None,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.webhook_id = webhook_id
        self.tokens: dict[str, datetime] = {}
        self.orders: dict[str, Order] = {}
        self.authorizations: dict[str, dict[str, Any]] = {}
        self.captures: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.vaults: dict[str, Vault] = {}
        self.customers_by_email: dict[str, str] = {}
        self.answers: dict[tuple[str, str], tuple[int, Any]] = {}
        self.declined_customers: set[str] = set()
        self.decline_all = False
        self._failures: list[tuple[int, bool]] = []
        self._idem_locks: dict[tuple[str, str], threading.Lock] = {}
        super().__init__(deliver)

    # --- control knobs ----------------------------------------------------------------------------------------------

    def decline_off_session(self, customer: str | None = None, decline: bool = True) -> None:
        """Decline future vault charges of `customer` (a vault customer id or a vault id), or of everyone."""
        with self.lock:
            if customer is None:
                self.decline_all = decline
            elif decline:
                self.declined_customers.add(customer)
            else:
                self.declined_customers.discard(customer)

    def fail_next(self, status: int = 500, count: int = 1, *, html: bool = False) -> None:
        """The next `count` API calls answer `status` with PayPal's internal-error body (an outage), or with a
        gateway's HTML page (`html`), as a load balancer in front of PayPal would."""
        with self.lock:
            self._failures.extend([(status, html)] * count)

    def expire_order(self, order_id: str) -> dict[str, Any]:
        with self.lock:
            order = self._order(order_id)
            if order.status in ("CREATED", "PAYER_ACTION_REQUIRED", "APPROVED"):
                order.status = "VOIDED"
                order.update_time = now_iso()
            return self.order_json(order)

    def dashboard_refund(self, capture_id: str, amount: Decimal | None = None) -> dict[str, Any]:
        """A refund made in PayPal's dashboard (provider-initiated, §7.3): webhook `PAYMENT.CAPTURE.REFUNDED`."""
        return self._refund(capture_id, amount, None, None)

    def dashboard_void(self, authorization_id: str) -> dict[str, Any]:
        """An authorization voided in the dashboard: webhook `PAYMENT.AUTHORIZATION.VOIDED`."""
        return self._void(authorization_id)

    # --- routes ---------------------------------------------------------------------------------------------------

    def routes(self) -> None:
        app = self.app

        @app.before_request
        def outage() -> Any:
            path = request.path
            if path.startswith(("/v1/", "/v2/")):
                with self.lock:
                    failing = self._failures.pop(0) if self._failures else None
                if failing is not None:
                    status, page = failing
                    if page:
                        return Response(f"<html><h1>{status} Bad Gateway</h1></html>", status, mimetype="text/html")
                    failure = error(status, "INTERNAL_SERVER_ERROR", "An internal server error has occurred.")
                    return self._json(failure.status, failure.body)
            return None

        app.add_url_rule("/v1/oauth2/token", "token", self._token_route, methods=["POST"])
        api = [
            ("/v2/checkout/orders", "create_order", ["POST"]),
            ("/v2/checkout/orders/<oid>", "get_order", ["GET"]),
            ("/v2/checkout/orders/<oid>/capture", "capture_order", ["POST"]),
            ("/v2/checkout/orders/<oid>/authorize", "authorize_order", ["POST"]),
            ("/v2/payments/authorizations/<oid>", "get_authorization", ["GET"]),
            ("/v2/payments/authorizations/<oid>/capture", "capture_authorization", ["POST"]),
            ("/v2/payments/authorizations/<oid>/void", "void_authorization", ["POST"]),
            ("/v2/payments/captures/<oid>", "get_capture", ["GET"]),
            ("/v2/payments/captures/<oid>/refund", "refund_capture", ["POST"]),
            ("/v2/payments/refunds/<oid>", "get_refund", ["GET"]),
            ("/v1/notifications/verify-webhook-signature", "verify_webhook_signature", ["POST"]),
        ]
        for rule, name, methods in api:
            app.add_url_rule(rule, name, self._api(getattr(self, "_" + name)), methods=methods)
        app.add_url_rule(CERT_PATH, "cert", self._cert_route, methods=["GET"])
        app.add_url_rule("/checkoutnow", "checkout_page", self._page_route, methods=["GET"])
        app.add_url_rule("/checkoutnow/<oid>/approve", "approve", self._approve_route, methods=["POST"])
        app.add_url_rule("/checkoutnow/<oid>/cancel", "cancel", self._cancel_route, methods=["POST"])
        controls = [
            ("/_emulator/decline", "c_decline", self._c_decline),
            ("/_emulator/fail-next", "c_fail", self._c_fail),
            ("/_emulator/orders/<oid>/expire", "c_expire", self._c_expire),
            ("/_emulator/captures/<oid>/refund", "c_refund", self._c_refund),
            ("/_emulator/authorizations/<oid>/void", "c_void", self._c_void),
            ("/_emulator/flush", "c_flush", self._c_flush),
        ]
        for rule, name, view in controls:
            app.add_url_rule(rule, name, view, methods=["POST"])
        app.add_url_rule("/_emulator/webhooks", "c_webhooks", self._c_webhooks, methods=["GET"])

    @staticmethod
    def _json(status: int, body: Any) -> Response:
        if body is None:
            return Response(status=status)
        return Response(json.dumps(body), status=status, mimetype="application/json")

    def _api(self, handler: Any) -> Any:
        """An API route: bearer token checked, `PayPal-Request-Id` honoured, PayPal's error bodies."""

        def view(**kwargs: Any) -> Response:
            if not self._authorized():
                return self._json(
                    401, {"error": "invalid_token", "error_description": "Token signature verification failed"}
                )
            request_id = request.headers.get("PayPal-Request-Id")
            if request.method != "POST" or not request_id:
                return self._answer(handler, kwargs)
            scope = (request.path, request_id)
            with self.lock:
                key_lock = self._idem_locks.setdefault(scope, threading.Lock())
            with key_lock:  # a retry racing the first call waits for its answer
                if scope in self.answers:
                    status, body = self.answers[scope]
                    return self._json(status, body)
                answer = self._answer(handler, kwargs)
                if answer.status_code < 500:
                    self.answers[scope] = (answer.status_code, answer.get_json(silent=True))
                return answer

        return view

    def _answer(self, handler: Any, kwargs: dict[str, Any]) -> Response:
        try:
            status, body = handler(**kwargs)
        except PayPalFailure as failure:
            return self._json(failure.status, failure.body)
        # PayPal's default for writes is `Prefer: return=minimal`: the id, the status and the links.
        minimal = request.method == "POST" and "return=representation" not in (request.headers.get("Prefer") or "")
        if minimal and isinstance(body, dict) and "id" in body:
            body = {key: body[key] for key in ("id", "status", "links") if key in body}
        return self._json(status, body)

    def _authorized(self) -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return False
        with self.lock:
            expiry = self.tokens.get(header[len("Bearer ") :])
        return expiry is not None and expiry > datetime.now(UTC)

    def _body(self) -> dict[str, Any]:
        if not request.data:
            return {}
        try:
            body = json.loads(request.data)
        except ValueError:
            raise invalid_request("MALFORMED_REQUEST_JSON", "The request JSON is not well formed.") from None
        if not isinstance(body, dict):
            raise invalid_request("MALFORMED_REQUEST_JSON", "The request JSON is not well formed.")
        return body

    # --- OAuth ------------------------------------------------------------------------------------------------------

    def _token_route(self) -> Response:
        header = request.headers.get("Authorization", "")
        given = ""
        if header.startswith("Basic "):
            try:
                given = base64.b64decode(header[len("Basic ") :]).decode()
            except (ValueError, binascii.Error):
                given = ""
        expected = f"{self.client_id}:{self.client_secret}"
        if not secrets.compare_digest(given.encode(), expected.encode()):
            return self._json(401, {"error": "invalid_client", "error_description": "Client Authentication failed"})
        if request.form.get("grant_type") != "client_credentials":
            return self._json(
                400, {"error": "unsupported_grant_type", "error_description": "Grant Type is NULL or unsupported"}
            )
        token = "A21AA" + secrets.token_urlsafe(48)
        with self.lock:
            self.tokens[token] = datetime.now(UTC) + timedelta(seconds=TOKEN_LIFETIME)
        return self._json(
            200,
            {
                "scope": "https://uri.paypal.com/services/payments/payment https://uri.paypal.com/services/vault",
                "access_token": token,
                "token_type": "Bearer",
                "app_id": "APP-80W284485P519543T",
                "expires_in": TOKEN_LIFETIME,
                "nonce": f"{now_iso()}{secrets.token_hex(8)}",
            },
        )

    # --- orders -----------------------------------------------------------------------------------------------------

    def _order(self, order_id: str) -> Order:
        order = self.orders.get(order_id)
        if order is None:
            raise not_found()
        return order

    def _link(self, path: str, rel: str, method: str = "GET") -> dict[str, str]:
        return {"href": f"{self.base_url}{path}", "rel": rel, "method": method}

    def order_json(self, order: Order) -> dict[str, Any]:
        unit: dict[str, Any] = {"reference_id": "default", "amount": money(order.amount, order.currency)}
        for name in ("custom_id", "invoice_id", "description"):
            if getattr(order, name):
                unit[name] = getattr(order, name)
        payments: dict[str, Any] = {}
        if order.authorizations:
            payments["authorizations"] = [self.authorizations[a] for a in order.authorizations]
        if order.captures:
            payments["captures"] = [self.captures[c] for c in order.captures]
        if payments:
            unit["payments"] = payments
        body: dict[str, Any] = {
            "id": order.id,
            "intent": order.intent,
            "status": order.status,
            "purchase_units": [unit],
            "create_time": order.create_time,
            "update_time": order.update_time,
        }
        source = self._source_json(order)
        if source:
            body["payment_source"] = {"paypal": source}
        if order.payer:
            body["payer"] = {
                "name": order.payer["name"],
                "email_address": order.payer["email_address"],
                "payer_id": order.payer["payer_id"],
            }
        links = [self._link(f"/v2/checkout/orders/{order.id}", "self")]
        if order.status in ("CREATED", "PAYER_ACTION_REQUIRED"):
            rel = "payer-action" if order.has_payment_source else "approve"
            links.append(self._link(f"/checkoutnow?token={order.id}", rel))
        if order.status == "APPROVED":
            action = "capture" if order.intent == "CAPTURE" else "authorize"
            links.append(self._link(f"/v2/checkout/orders/{order.id}/{action}", action, "POST"))
        body["links"] = links
        return body

    def _source_json(self, order: Order) -> dict[str, Any]:
        source: dict[str, Any] = {}
        if order.payer:
            source = {
                "email_address": order.payer["email_address"],
                "account_id": order.payer["payer_id"],
                "account_status": "VERIFIED",
                "name": order.payer["name"],
            }
        if order.vault is not None:
            source["attributes"] = {
                "vault": {"id": order.vault.id, "status": "VAULTED", "customer": {"id": order.vault.customer_id}}
            }
        return source

    def _create_order(self) -> tuple[int, Any]:
        body = self._body()
        intent = body.get("intent")
        if intent not in ("CAPTURE", "AUTHORIZE"):
            raise invalid_request("INVALID_PARAMETER_VALUE", "The value of a field is invalid: /intent")
        units = body.get("purchase_units")
        if not isinstance(units, list) or len(units) != 1 or not isinstance(units[0], dict):
            raise invalid_request("INVALID_ARRAY_MAX_ITEMS", "Exactly one purchase unit is supported here.")
        unit = units[0]
        amount = unit.get("amount") or {}
        currency = str(amount.get("currency_code") or "")
        value = self._amount(amount.get("value"), currency, "/purchase_units/@reference_id=='default'/amount/value")
        if value <= 0:
            raise unprocessable("CANNOT_BE_ZERO_OR_NEGATIVE", "Must be greater than zero.")
        paypal = (body.get("payment_source") or {}).get("paypal")
        token = (body.get("payment_source") or {}).get("token")
        vault_id = None
        if isinstance(paypal, dict) and paypal.get("vault_id"):
            vault_id = str(paypal["vault_id"])
        elif isinstance(token, dict) and token.get("id"):
            vault_id = str(token["id"])
        context = (paypal or {}).get("experience_context") or body.get("application_context") or {}
        attributes = (paypal or {}).get("attributes") or {}
        order = Order(
            id=paypal_id(),
            intent=intent,
            amount=value,
            currency=currency,
            custom_id=unit.get("custom_id"),
            invoice_id=unit.get("invoice_id"),
            description=unit.get("description"),
            return_url=context.get("return_url"),
            cancel_url=context.get("cancel_url"),
            vault_requested=(attributes.get("vault") or {}).get("store_in_vault") == "ON_SUCCESS",
            customer_id=(attributes.get("customer") or {}).get("id"),
            has_payment_source=paypal is not None,
        )
        if vault_id is not None:
            return self._charge_vault(order, vault_id)
        order.status = "PAYER_ACTION_REQUIRED" if paypal is not None else "CREATED"
        with self.lock:
            self.orders[order.id] = order
            return 201, self.order_json(order)

    @staticmethod
    def _amount(value: Any, currency: str, where: str) -> Decimal:
        if len(currency) != 3:
            raise unprocessable("CURRENCY_NOT_SUPPORTED", "Currency code is not currently supported.")
        try:
            amount = Decimal(str(value))
        except (InvalidOperation, ValueError):
            raise invalid_request(
                "INVALID_PARAMETER_SYNTAX", f"The value of a field does not conform: {where}"
            ) from None
        exponent = amount.as_tuple().exponent
        if not isinstance(exponent, int) or -exponent > places(currency):
            raise unprocessable("DECIMAL_PRECISION", "If the currency supports decimals, only two are supported.")
        return amount

    def _charge_vault(self, order: Order, vault_id: str) -> tuple[int, Any]:
        """A merchant-initiated charge of a vaulted PayPal account: completed at once, or declined."""
        with self.lock:
            vault = self.vaults.get(vault_id)
            if vault is None:
                raise unprocessable("INVALID_VAULT_ID", "The vault_id does not exist or is not accessible.")
            order.vault = vault
            order.payer = self._payer(vault.email, vault.payer_id)
            order.has_payment_source = True
            self.orders[order.id] = order
            declined = self.decline_all or {vault.id, vault.customer_id} & self.declined_customers
            if declined:
                order.status = "VOIDED"
                capture = self._new_capture(order, status="DECLINED")
                capture["status_details"] = {"reason": "DECLINED_BY_RISK_FRAUD_FILTERS"}
                self._emit("PAYMENT.CAPTURE.DECLINED", "capture", capture)
                raise unprocessable(
                    "INSTRUMENT_DECLINED",
                    "The instrument presented was either declined by the processor or bank, or it can't be used "
                    "for this payment.",
                )
            if order.intent == "AUTHORIZE":
                self._new_authorization(order)
            else:
                capture = self._new_capture(order)
                self._emit("PAYMENT.CAPTURE.COMPLETED", "capture", capture)
            order.status = "COMPLETED"
            return 201, self.order_json(order)

    def _get_order(self, oid: str) -> tuple[int, Any]:
        with self.lock:
            return 200, self.order_json(self._order(oid))

    def _approved(self, oid: str, intent: str) -> Order:
        order = self._order(oid)
        if order.intent != intent:
            raise unprocessable(
                "ACTION_DOES_NOT_MATCH_INTENT",
                f"Order was created with an intent to '{order.intent}'. Please use the matching call.",
            )
        if order.status == "COMPLETED":
            issue = "ORDER_ALREADY_CAPTURED" if intent == "CAPTURE" else "ORDER_ALREADY_AUTHORIZED"
            raise unprocessable(issue, "Order already captured.If 'intent=CAPTURE' only one capture per order.")
        if order.status == "VOIDED":
            raise unprocessable("ORDER_EXPIRED", "The order has expired.")
        if order.status != "APPROVED":
            raise unprocessable("ORDER_NOT_APPROVED", "Payer has not yet approved the Order for payment.")
        return order

    def _capture_order(self, oid: str) -> tuple[int, Any]:
        with self.lock:
            order = self._approved(oid, "CAPTURE")
            self._vault_on_success(order)
            capture = self._new_capture(order)
            order.status = "COMPLETED"
            order.update_time = now_iso()
            self._emit("PAYMENT.CAPTURE.COMPLETED", "capture", capture)
            return 201, self.order_json(order)

    def _authorize_order(self, oid: str) -> tuple[int, Any]:
        with self.lock:
            order = self._approved(oid, "AUTHORIZE")
            self._vault_on_success(order)
            self._new_authorization(order)
            order.status = "COMPLETED"
            order.update_time = now_iso()
            return 201, self.order_json(order)

    def _vault_on_success(self, order: Order) -> None:
        if not order.vault_requested or order.payer is None or order.vault is not None:
            return
        email = order.payer["email_address"]
        customer = order.customer_id or self.customers_by_email.setdefault(email, paypal_id(10).lower())
        vault = Vault(paypal_id(8).lower(), customer, email, order.payer["payer_id"])
        self.vaults[vault.id] = vault
        order.vault = vault

    def _related(self, order: Order, **more: str) -> dict[str, Any]:
        return {"related_ids": {"order_id": order.id, **more}}

    def _new_capture(
        self, order: Order, status: str = "COMPLETED", authorization_id: str | None = None
    ) -> dict[str, Any]:
        cid = paypal_id()
        related = self._related(order, authorization_id=authorization_id) if authorization_id else None
        capture: dict[str, Any] = {
            "id": cid,
            "status": status,
            "amount": money(order.amount, order.currency),
            "final_capture": True,
            "seller_protection": {"status": "ELIGIBLE", "dispute_categories": ["ITEM_NOT_RECEIVED"]},
            "seller_receivable_breakdown": self._breakdown(order.amount, order.currency),
            "links": [
                self._link(f"/v2/payments/captures/{cid}", "self"),
                self._link(f"/v2/payments/captures/{cid}/refund", "refund", "POST"),
                self._link(f"/v2/checkout/orders/{order.id}", "up"),
            ],
            "create_time": now_iso(),
            "update_time": now_iso(),
            "supplementary_data": related or self._related(order),
        }
        for name in ("custom_id", "invoice_id"):
            if getattr(order, name):
                capture[name] = getattr(order, name)
        self.captures[cid] = capture
        order.captures.append(cid)
        return capture

    @staticmethod
    def _breakdown(amount: Decimal, currency: str) -> dict[str, Any]:
        fee = (amount * Decimal("0.0349")).quantize(Decimal(1).scaleb(-places(currency)))
        return {
            "gross_amount": money(amount, currency),
            "paypal_fee": money(fee, currency),
            "net_amount": money(amount - fee, currency),
        }

    def _new_authorization(self, order: Order) -> dict[str, Any]:
        aid = paypal_id()
        authorization: dict[str, Any] = {
            "id": aid,
            "status": "CREATED",
            "amount": money(order.amount, order.currency),
            "seller_protection": {"status": "ELIGIBLE"},
            "expiration_time": (datetime.now(UTC) + timedelta(days=29)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "links": [
                self._link(f"/v2/payments/authorizations/{aid}", "self"),
                self._link(f"/v2/payments/authorizations/{aid}/capture", "capture", "POST"),
                self._link(f"/v2/payments/authorizations/{aid}/void", "void", "POST"),
                self._link(f"/v2/checkout/orders/{order.id}", "up"),
            ],
            "create_time": now_iso(),
            "update_time": now_iso(),
            "supplementary_data": self._related(order),
        }
        for name in ("custom_id", "invoice_id"):
            if getattr(order, name):
                authorization[name] = getattr(order, name)
        self.authorizations[aid] = authorization
        order.authorizations.append(aid)
        self._emit("PAYMENT.AUTHORIZATION.CREATED", "authorization", authorization)
        return authorization

    # --- authorizations, captures, refunds -------------------------------------------------------------------------

    @staticmethod
    def _found(store: dict[str, dict[str, Any]], key: str) -> dict[str, Any]:
        found = store.get(key)
        if found is None:
            raise not_found()
        return found

    @staticmethod
    def _refuse_in(authorization: dict[str, Any], refusals: dict[str, tuple[str, str]]) -> None:
        """The authorization's status refuses the action: PayPal's issue and description for that status."""
        refused = refusals.get(authorization["status"])
        if refused is not None:
            raise unprocessable(*refused)

    def _get_authorization(self, oid: str) -> tuple[int, Any]:
        with self.lock:
            return 200, self._found(self.authorizations, oid)

    def _capture_authorization(self, oid: str) -> tuple[int, Any]:
        with self.lock:
            authorization = self._found(self.authorizations, oid)
            self._refuse_in(authorization, CAPTURE_REFUSALS)
            order = self.orders[authorization["supplementary_data"]["related_ids"]["order_id"]]
            capture = self._new_capture(order, authorization_id=oid)
            authorization["status"] = "CAPTURED"
            authorization["update_time"] = now_iso()
            self._emit("PAYMENT.CAPTURE.COMPLETED", "capture", capture)
            return 201, capture

    def _void_authorization(self, oid: str) -> tuple[int, Any]:
        body = self._void(oid)
        if "return=representation" in (request.headers.get("Prefer") or ""):
            return 200, body
        return 204, None

    def _void(self, aid: str) -> dict[str, Any]:
        with self.lock:
            authorization = self._found(self.authorizations, aid)
            self._refuse_in(authorization, VOID_REFUSALS)
            authorization["status"] = "VOIDED"
            authorization["update_time"] = now_iso()
            self._emit("PAYMENT.AUTHORIZATION.VOIDED", "authorization", authorization)
            return authorization

    def _get_capture(self, oid: str) -> tuple[int, Any]:
        with self.lock:
            return 200, self._found(self.captures, oid)

    def _refund_capture(self, oid: str) -> tuple[int, Any]:
        body = self._body()
        amount = None
        with self.lock:
            capture = self._found(self.captures, oid)
            if body.get("amount") is not None:
                given = body["amount"]
                if given.get("currency_code") != capture["amount"]["currency_code"]:
                    raise unprocessable("CURRENCY_MISMATCH", "Refund must be in the same currency as the capture.")
                amount = self._amount(given.get("value"), str(given.get("currency_code")), "/amount/value")
            return 201, self._refund(oid, amount, body.get("invoice_id"), body.get("note_to_payer"))

    def _refund(
        self, capture_id: str, amount: Decimal | None, invoice_id: str | None, note: str | None
    ) -> dict[str, Any]:
        with self.lock:
            capture = self._found(self.captures, capture_id)
            if capture["status"] not in ("COMPLETED", "PARTIALLY_REFUNDED"):
                if capture["status"] == "REFUNDED":
                    raise unprocessable("CAPTURE_FULLY_REFUNDED", "The capture has already been fully refunded")
                raise unprocessable("REFUND_NOT_ALLOWED", "Full refund refused - partial refund has already been done")
            currency = capture["amount"]["currency_code"]
            captured = Decimal(capture["amount"]["value"])
            already = Decimal(capture.get("_refunded", "0"))
            remainder = captured - already
            wanted = remainder if amount is None else amount
            if wanted <= 0:
                raise unprocessable("AMOUNT_CANNOT_BE_ZERO_OR_NEGATIVE", "Refund amount must be greater than zero.")
            if wanted > remainder:
                raise unprocessable(
                    "REFUND_AMOUNT_EXCEEDED",
                    "The refund amount must be less than or equal to the capture amount that has not yet been "
                    "refunded.",
                )
            total = already + wanted
            capture["_refunded"] = str(total)
            capture["status"] = "REFUNDED" if total == captured else "PARTIALLY_REFUNDED"
            capture["update_time"] = now_iso()
            rid = paypal_id()
            refund: dict[str, Any] = {
                "id": rid,
                "status": "COMPLETED",
                "amount": money(wanted, currency),
                "seller_payable_breakdown": {
                    "gross_amount": money(wanted, currency),
                    "paypal_fee": money(Decimal(0), currency),
                    "net_amount": money(wanted, currency),
                    "total_refunded_amount": money(total, currency),
                },
                "links": [
                    self._link(f"/v2/payments/refunds/{rid}", "self"),
                    self._link(f"/v2/payments/captures/{capture_id}", "up"),
                ],
                "create_time": now_iso(),
                "update_time": now_iso(),
            }
            if capture.get("custom_id"):
                refund["custom_id"] = capture["custom_id"]
            if invoice_id or capture.get("invoice_id"):
                refund["invoice_id"] = invoice_id or capture["invoice_id"]
            if note:
                refund["note_to_payer"] = note
            self.refunds[rid] = refund
            self._emit("PAYMENT.CAPTURE.REFUNDED", "refund", refund)
            return refund

    def _get_refund(self, oid: str) -> tuple[int, Any]:
        with self.lock:
            return 200, self._found(self.refunds, oid)

    # --- webhooks -------------------------------------------------------------------------------------------------

    def _emit(self, event_type: str, resource_type: str, resource: dict[str, Any]) -> None:
        public = {key: value for key, value in resource.items() if not key.startswith("_")}
        event = {
            "id": f"WH-{paypal_id(17)}-{paypal_id(17)}",
            "event_version": "1.0",
            "create_time": now_iso(),
            "resource_type": resource_type,
            "resource_version": "2.0",
            "event_type": event_type,
            "summary": f"{event_type.replace('.', ' ').title()}",
            "resource": json.loads(json.dumps(public)),
            "links": [self._link(f"/v1/notifications/webhooks-events/{resource_type}", "self")],
        }
        body = json.dumps(event, separators=(",", ":")).encode()
        self.enqueue(self.sign_delivery(body), body)

    def sign_delivery(
        self, body: bytes, transmission_id: str | None = None, transmission_time: str | None = None
    ) -> dict[str, str]:
        """The headers PayPal sends with a webhook delivery of `body`, signed for this emulator's webhook id."""
        transmission_id = transmission_id or str(uuid.uuid4())
        transmission_time = transmission_time or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        signature = sign(signed_string(transmission_id, transmission_time, self.webhook_id, body))
        return {
            "Content-Type": "application/json",
            "User-Agent": "PayPal/AUHD-214.0-58001441",
            "PAYPAL-TRANSMISSION-ID": transmission_id,
            "PAYPAL-TRANSMISSION-TIME": transmission_time,
            "PAYPAL-TRANSMISSION-SIG": signature,
            "PAYPAL-AUTH-ALGO": AUTH_ALGO,
            "PAYPAL-CERT-URL": f"{self.base_url}{CERT_PATH}",
            "PAYPAL-AUTH-VERSION": "v2",
        }

    def _verify_webhook_signature(self) -> tuple[int, Any]:
        text = request.get_data(as_text=True)
        body = self._body()
        required = ("auth_algo", "cert_url", "transmission_id", "transmission_sig", "transmission_time", "webhook_id")
        for name in (*required, "webhook_event"):
            if not body.get(name):
                raise invalid_request("MISSING_REQUIRED_PARAMETER", f"A required field is missing: {name}")
        start, end = member_spans(text)["webhook_event"]
        event = text[start:end].encode()
        cert = urlsplit(str(body["cert_url"]))
        ours = urlsplit(self.base_url)
        trusted = (cert.scheme, cert.netloc, cert.path) == (ours.scheme, ours.netloc, CERT_PATH)
        message = signed_string(
            str(body["transmission_id"]), str(body["transmission_time"]), str(body["webhook_id"]), event
        )
        good = (
            body["auth_algo"] == AUTH_ALGO
            and trusted
            and body["webhook_id"] == self.webhook_id
            and signature_matches(message, str(body["transmission_sig"]))
        )
        return 200, {"verification_status": "SUCCESS" if good else "FAILURE"}

    def _cert_route(self) -> Response:
        _, pem = _signing_key()
        return Response(pem, mimetype="application/x-pem-file")

    # --- hosted approval page ------------------------------------------------------------------------------------

    @staticmethod
    def _payer(email: str, payer_id: str | None = None) -> dict[str, Any]:
        payer_id = payer_id or "P" + hashlib.sha256(email.encode()).hexdigest()[:12].upper()
        return {"email_address": email, "payer_id": payer_id, "name": {"given_name": "Test", "surname": "Buyer"}}

    def _page_route(self) -> Response:
        oid = request.args.get("token", "")
        with self.lock:
            order = self.orders.get(oid)
            if order is None:
                return Response("<h1>This checkout session is not valid</h1>", status=404, mimetype="text/html")
            amount = money(order.amount, order.currency)
            status = order.status
        label = html.escape(f"{amount['value']} {amount['currency_code']}")
        safe = html.escape(oid)
        page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>PayPal Checkout (local emulator)</title></head>
<body>
<h1>Pay with PayPal</h1>
<p>Order <code id="order">{safe}</code> — status <span id="status">{html.escape(status)}</span></p>
<p>Amount: <strong id="amount">{label}</strong></p>
<form method="post" action="/checkoutnow/{safe}/approve">
  <label>PayPal account <input name="email" value="buyer@example.com"></label>
  <button id="pay" type="submit">Pay</button>
</form>
<form method="post" action="/checkoutnow/{safe}/cancel">
  <button id="decline" type="submit">Decline</button>
</form>
</body></html>"""
        return Response(page, mimetype="text/html")

    @staticmethod
    def _back_to(url: str | None, oid: str, **params: str) -> Response:
        if not url:
            return Response("<p>Done: you may close this window.</p>", mimetype="text/html")
        parts = urlsplit(url.replace("{SESSION_ID}", oid).replace("%7BSESSION_ID%7D", oid))
        query = "&".join(part for part in (parts.query, urlencode({"token": oid, **params})) if part)
        return redirect(urlunsplit(parts._replace(query=query)), code=303)

    def _approve_route(self, oid: str) -> Response:
        email = (request.form.get("email") or "buyer@example.com").strip()
        with self.lock:
            order = self.orders.get(oid)
            if order is None:
                return Response("<h1>This checkout session is not valid</h1>", status=404, mimetype="text/html")
            if order.status not in ("CREATED", "PAYER_ACTION_REQUIRED"):
                return Response("<h1>This order can no longer be approved</h1>", status=409, mimetype="text/html")
            order.payer = self._payer(email)
            order.status = "APPROVED"
            order.update_time = now_iso()
            self._emit("CHECKOUT.ORDER.APPROVED", "checkout-order", self.order_json(order))
            payer_id = order.payer["payer_id"]
            return_url = order.return_url
        return self._back_to(return_url, oid, PayerID=payer_id)

    def _cancel_route(self, oid: str) -> Response:
        with self.lock:
            order = self.orders.get(oid)
            cancel_url = order.cancel_url if order else None
        if order is None:
            return Response("<h1>This checkout session is not valid</h1>", status=404, mimetype="text/html")
        return self._back_to(cancel_url, oid)

    # --- the emulator's control API -------------------------------------------------------------------------------

    def _control(self, action: Any) -> Response:
        try:
            return self._json(200, action())
        except PayPalFailure as failure:
            return self._json(failure.status, failure.body)

    def _c_decline(self) -> Response:
        body = request.get_json(silent=True) or {}
        self.decline_off_session(body.get("customer"), bool(body.get("decline", True)))
        return self._json(200, {"decline_all": self.decline_all, "declined": sorted(self.declined_customers)})

    def _c_fail(self) -> Response:
        body = request.get_json(silent=True) or {}
        self.fail_next(int(body.get("status", 500)), int(body.get("count", 1)), html=bool(body.get("html")))
        return self._json(200, {"failing": len(self._failures)})

    def _c_expire(self, oid: str) -> Response:
        return self._control(lambda: self.expire_order(oid))

    def _c_refund(self, oid: str) -> Response:
        body = request.get_json(silent=True) or {}
        amount = Decimal(str(body["amount"])) if body.get("amount") is not None else None
        return self._control(lambda: self.dashboard_refund(oid, amount))

    def _c_void(self, oid: str) -> Response:
        return self._control(lambda: self.dashboard_void(oid))

    def _c_flush(self) -> Response:
        done = self.flush()
        return self._json(200, {"delivered": len(done), "pending": len(self.pending())})

    def _c_webhooks(self) -> Response:
        return self._json(200, {"pending": [json.loads(item.body) for item in self.pending()]})


def main(argv: list[str] | None = None) -> None:
    args = command_line(
        "A local PayPal REST API emulator",
        8092,
        argv,
        client_id="emulator-client-id",
        client_secret="emulator-client-secret",
        webhook_id="WH-EMULATOR-0001",
    )
    serve(PayPalEmulator(args.client_id, args.client_secret, args.webhook_id, deliverer_for(args)), args.port)


if __name__ == "__main__":
    main()
