"""What the hosted payment providers — Stripe, PayPal, YooKassa — have in common (checkout-and-payments.md §9–§10).

Each provider is a package `chalicelib/payments/<code>/` with the same inner shape:

- `provider.py` — a class implementing `HostedProvider` (and so the `PaymentProvider` protocol of
  `chalicelib.payments.providers`): open a hosted session for an invoice, read a session's state, charge a saved
  method off-session, refund (partial amounts), capture or release an authorization, verify a webhook on its raw
  bytes, and turn a verified webhook into a `ProviderEvent` (re-fetching the provider's object where the event alone
  is not authoritative);
- `client.py` — the vendor's official SDK configured from `ProviderKeys` (the base URL of `api_base` points it at
  the local emulator of `infra/emulators/<code>.py`; the SDK itself is never patched).

Providers talk to their payment service only and answer in domain terms (the dataclasses below): they never write
an invoice and never name an HTTP status. Their failures are `ProviderNotConfigured` (the route answers 503) and
`ProviderError` (502, with the provider's message and never a secret in it). A webhook that fails verification is
`InvalidWebhook` (400 `Invalid signature`, or the message given, such as YooKassa's `Untrusted notification
source`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any, Literal, Protocol

from chalicelib.payments.outcomes import Payment

if TYPE_CHECKING:
    from chalicelib.invoices.models import InvoiceItem


class ProviderNotConfigured(Exception):
    """The provider's keys are missing for the active mode (503 `Payment provider not configured`)."""


class ProviderError(Exception):
    """The provider's API failed or refused; the message is the provider's, with no secret in it
    (502 `Payment provider error: <message>`)."""


class InvalidWebhook(Exception):
    """A webhook that did not verify: nothing of it is stored (400; the message is the answer's `error`)."""

    def __init__(self, message: str = "Invalid signature") -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ProviderKeys:
    """One provider's configuration in its active mode (admin.md §15; sandbox vs live keys resolved).

    `values` holds the mode's keys without their `test_`/`live_` prefix (Stripe: `publishable_key`, `secret_key`,
    `webhook_secret`; PayPal: `client_id`, `client_secret`, `webhook_id`; YooKassa: `shop_id`, `secret_key`,
    `allowed_ips`). `api_base` is the provider API's base URL when it is not the vendor's own (the local emulator).
    """

    code: str
    sandbox: bool
    values: dict[str, Any]
    api_base: str | None = None

    def get(self, name: str) -> Any:
        return self.values.get(name)

    def require(self, name: str) -> str:
        value = self.values.get(name)
        if not value:
            raise ProviderNotConfigured(f"{self.code}: {name} is not set")
        return str(value)


@dataclass(frozen=True)
class ReturnUrls:
    """Where the provider's hosted page sends the buyer back (checkout-and-payments.md §10.1)."""

    success: str  # contains the literal `{SESSION_ID}` placeholder where the provider substitutes its session id
    cancel: str


@dataclass(frozen=True)
class Buyer:
    """The paying user as a provider needs them: the provider customer id kept on the user, when there is one."""

    user_id: str
    email: str
    customer_id: str | None = None


@dataclass(frozen=True)
class HostedSession:
    """A session opened at the provider for one invoice (§10.4–§10.6 `create-session` answers)."""

    session_id: str
    session_url: str | None
    payment_intent_id: str | None = None
    client_secret: str | None = None  # Stripe manual capture (a PaymentIntent instead of a Checkout Session)
    capture_method: str | None = None  # "manual" for manual capture
    customer_id: str | None = None  # a provider customer created for the buyer: the caller keeps it on the user


SessionStatus = Literal["paid", "unpaid", "pending", "expired", "no_payment_required"]


@dataclass(frozen=True)
class SessionState:
    """What the provider says of a session (§10.1 `session-status`): its status, amount and invoice, and — when
    it is paid or authorized — the payment to capture with or the authorization's intent id."""

    status: SessionStatus
    amount_minor: int
    currency: str
    invoice_id: str | None
    payment: Payment | None = None  # status "paid": the capture's provider, reference, transaction, saved method
    authorized_intent: str | None = None  # status "pending" on an authorization (manual capture)


class EventKind(Enum):
    """What a verified provider webhook means for billing (the event tables of §10.4–§10.6)."""

    CAPTURED = "captured"  # capture the invoice (§6) with `payment`
    AUTHORIZED = "authorized"  # the invoice's money is held (§6.3) under `intent_id`
    PAYMENT_FAILED = "payment_failed"  # `invoice.payment_failed`, or dunning when `off_session`
    RELEASED = "released"  # the authorization was voided: release the AUTHORIZED invoice (§6.3)
    SESSION_EXPIRED = "session_expired"  # nothing, except a booking hold tied to that session is released
    REFUNDED = "refunded"  # provider-initiated refund: `refunded_total` is the provider's total refunded (§7.3)
    REFUND_REVERSED = "refund_reversed"  # the refund `refund_id` was cancelled (§7.4)
    DISPUTED = "disputed"  # `payment.disputed`, no state change
    LEGACY_RENEWED = "legacy_renewed"  # Stripe `invoice.paid` of a Stripe-managed subscription
    LEGACY_PAST_DUE = "legacy_past_due"  # Stripe `invoice.payment_failed` of a Stripe-managed subscription
    LEGACY_CANCELLED = "legacy_cancelled"  # Stripe `customer.subscription.deleted`
    IGNORED = "ignored"  # an event type that changes nothing


@dataclass(frozen=True)
class ProviderEvent:
    """A verified provider webhook in domain terms. `event_id` is the provider's own id: the deduplication key."""

    provider: str
    event_id: str
    event_type: str  # the provider's own type name (`checkout.session.completed`, `PAYMENT.CAPTURE.COMPLETED` …)
    kind: EventKind
    invoice_id: str | None = None
    amount: Decimal | None = None  # major units, in `currency`
    currency: str | None = None
    payment: Payment | None = None  # CAPTURED
    intent_id: str | None = None  # AUTHORIZED / RELEASED: the provider's authorization (payment intent) id
    session_id: str | None = None
    refunded_total: Decimal | None = None  # REFUNDED
    refund_id: str | None = None  # REFUNDED / REFUND_REVERSED
    refund_amount: Decimal | None = None  # REFUND_REVERSED: the amount of the cancelled refund
    error_code: str | None = None  # PAYMENT_FAILED
    error_message: str | None = None
    off_session: bool = False  # PAYMENT_FAILED / CAPTURED of an off-session charge (renewal, retry, upgrade)
    provider_subscription_id: str | None = None  # LEGACY_*
    provider_invoice_id: str | None = None  # LEGACY_RENEWED: the Stripe invoice id (the deduplication key)
    details: dict[str, Any] = field(default_factory=dict)  # anything else worth recording (dispute reason …)


class HostedProvider(Protocol):
    """The provider packages' shared shape (besides `start`, `refund`, `charge_saved`, `capture_authorized` and
    `release` of `chalicelib.payments.providers.PaymentProvider`)."""

    code: str

    def create_session(
        self, invoice: InvoiceItem, buyer: Buyer, urls: ReturnUrls, idempotency_key: str, *, manual_capture: bool
    ) -> HostedSession: ...

    def session_state(self, session_id: str) -> SessionState: ...

    def expire_session(self, session_id: str) -> None: ...

    def verify_webhook(self, headers: dict[str, str], body: bytes, source_ip: str | None) -> dict[str, Any]: ...

    def event_key(self, payload: dict[str, Any]) -> tuple[str, str]:
        """The verified webhook's (provider event id, provider event type): the inbox's deduplication key."""
        ...

    def translate(self, payload: dict[str, Any]) -> ProviderEvent: ...


# YooKassa's published notification sources (its documentation's list), used when the plugin config names none.
YOOKASSA_NOTIFICATION_SOURCES = (
    "185.71.76.0/27",
    "185.71.77.0/27",
    "77.75.153.0/25",
    "77.75.156.11",
    "77.75.156.35",
    "77.75.154.128/25",
    "2a02:5180::/32",
)

_MODE_KEYS = {
    "stripe": ("publishable_key", "secret_key", "webhook_secret"),
    "paypal": ("client_id", "client_secret", "webhook_id"),
}


def _secret(value: Any) -> Any:
    return value.get_secret_value() if hasattr(value, "get_secret_value") else value


def _fallbacks(code: str) -> dict[str, Any]:
    """The keys the stage's environment gives (`STRIPE_SECRET_KEY` …), used where the plugin config has none."""
    from chalicelib.core.config import get_settings

    s = get_settings()
    given: dict[str, dict[str, Any]] = {
        "stripe": {
            "publishable_key": s.stripe_publishable_key,
            "secret_key": _secret(s.stripe_secret_key),
            "webhook_secret": _secret(s.stripe_webhook_secret),
        },
        "paypal": {
            "client_id": s.paypal_client_id,
            "client_secret": _secret(s.paypal_client_secret),
            "webhook_id": s.paypal_webhook_id,
        },
        "yookassa": {
            "shop_id": s.yookassa_shop_id,
            "secret_key": _secret(s.yookassa_secret_key),
            "allowed_ips": s.yookassa_allowed_ips,
        },
    }
    return given.get(code, {})


def _api_base(code: str) -> str | None:
    from chalicelib.core.config import get_settings

    s = get_settings()
    return {"stripe": s.stripe_api_base, "paypal": s.paypal_api_base, "yookassa": s.yookassa_api_base}.get(code)


def provider_keys(code: str) -> ProviderKeys:
    """The provider's keys in its active mode: the plugin config's `sandbox` (YooKassa: `test`) picks the `test_`
    or `live_` keys (admin.md §15, checkout-and-payments.md §10.4–§10.6); the environment fills what it lacks."""
    from chalicelib.plugins.registry import plugin_states

    state = plugin_states().get(code)
    config = dict(state.config) if state else {}
    fallbacks = _fallbacks(code)
    if code == "yookassa":
        sandbox = bool(config.get("test", config.get("sandbox", True)))
        values = {name: config.get(name) or fallbacks.get(name) for name in ("shop_id", "secret_key", "allowed_ips")}
        values["allowed_ips"] = list(values["allowed_ips"] or YOOKASSA_NOTIFICATION_SOURCES)
    else:
        sandbox = bool(config.get("sandbox", True))
        prefix = "test_" if sandbox else "live_"
        values = {
            name: config.get(prefix + name) or config.get(name) or fallbacks.get(name)
            for name in _MODE_KEYS.get(code, ())
        }
    return ProviderKeys(code, sandbox, values, _api_base(code))


REQUIRED_KEYS = {
    "stripe": ("secret_key",),
    "paypal": ("client_id", "client_secret"),
    "yookassa": ("shop_id", "secret_key"),
}


def is_configured(code: str) -> bool:
    """Whether the provider has the keys it needs to take money in its active mode (catalog.md §4.12); a plugin
    that is no hosted provider needs none."""
    keys = provider_keys(code)
    return all(keys.get(name) for name in REQUIRED_KEYS.get(code, ()))
