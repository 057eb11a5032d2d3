"""The official `stripe` SDK configured from the active mode's keys (`provider_keys("stripe")`).

One `StripeClient` per (secret key, API base), no global state: `api_base` (the local emulator in `local`/tests)
is its `api` base address. The SDK is imported here only, on first use. Every SDK failure becomes a
`ProviderError` whose message is Stripe's, with anything that looks like a key or secret taken out.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from chalicelib.payments.hosted import ProviderError, ProviderKeys, provider_keys

if TYPE_CHECKING:
    import stripe

MAX_NETWORK_RETRIES = 2  # the SDK retries connection errors and 409/5xx answers Stripe marks retryable
_SECRETS = re.compile(r"\b(?:sk|rk|pk)_(?:test|live)_[A-Za-z0-9*]+|\bwhsec_[A-Za-z0-9*]+")
_clients: dict[tuple[str, str | None, int], stripe.StripeClient] = {}
_lock = threading.Lock()


def stripe_keys() -> ProviderKeys:
    return provider_keys("stripe")


def stripe_client(keys: ProviderKeys | None = None) -> stripe.StripeClient:
    """The SDK client of the active mode (ProviderNotConfigured without a secret key)."""
    keys = keys or stripe_keys()
    secret = keys.require("secret_key")
    cache_key = (secret, keys.api_base, MAX_NETWORK_RETRIES)
    with _lock:
        client = _clients.get(cache_key)
        if client is None:
            import stripe

            bases: Any = {"api": keys.api_base} if keys.api_base else None
            client = stripe.StripeClient(secret, base_addresses=bases, max_network_retries=MAX_NETWORK_RETRIES)
            _clients[cache_key] = client
        return client


def scrub(message: str, *known: str | None) -> str:
    """The message without keys or secrets: the known ones and anything shaped like one."""
    for secret in known:
        if secret:
            message = message.replace(secret, "[redacted]")
    return _SECRETS.sub("[redacted]", message)


def error_message(error: Exception) -> str:
    """Stripe's own message of an SDK error (its `error.message`), else the exception's text."""
    text = getattr(error, "user_message", None) or getattr(error, "_message", None) or str(error)
    return " ".join(str(text).split()) or type(error).__name__


@contextmanager
def stripe_errors(keys: ProviderKeys | None = None) -> Iterator[None]:
    """SDK failures → ProviderError with Stripe's message and no secret in it."""
    import stripe

    try:
        yield
    except stripe.StripeError as error:
        known = (keys.get("secret_key"), keys.get("webhook_secret")) if keys else ()
        raise ProviderError(scrub(error_message(error), *known)) from None


def as_dict(obj: Any) -> dict[str, Any]:
    """An SDK object as plain data."""
    if hasattr(obj, "to_dict"):
        data: dict[str, Any] = obj.to_dict()
        return data
    return dict(obj)
