"""The three provider emulators as `make run` and the tests start them: each with its keys, and the environment that
points the API's provider (its SDK's base URL and keys) at it.

`start(deliver_for)` starts every emulator on a free loopback port; `deliver_for(code)` says where its webhooks go
(`http_deliverer` to the running API for `make run`, the Chalice test client in tests). The keys are the emulators'
own test keys, never real ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from infra.emulators.base import Deliver, Emulator
from infra.emulators.paypal import PayPalEmulator
from infra.emulators.stripe import StripeEmulator
from infra.emulators.yookassa import YookassaEmulator

STRIPE_KEYS = {"secret_key": "sk_test_local_emulator", "webhook_secret": "whsec_local_emulator"}
PAYPAL_KEYS = {"client_id": "local-emulator-client", "client_secret": "local-emulator-secret", "webhook_id": "WH-LOCAL"}
YOOKASSA_KEYS = {"shop_id": "100500", "secret_key": "test_local_emulator_secret"}


@dataclass
class Emulated:
    code: str
    emulator: Emulator
    environment: dict[str, str]


def _stripe(deliver: Deliver | None) -> StripeEmulator:
    return StripeEmulator(deliver, secret_key=STRIPE_KEYS["secret_key"], webhook_secret=STRIPE_KEYS["webhook_secret"])


def _paypal(deliver: Deliver | None) -> PayPalEmulator:
    return PayPalEmulator(PAYPAL_KEYS["client_id"], PAYPAL_KEYS["client_secret"], PAYPAL_KEYS["webhook_id"], deliver)


def _yookassa(deliver: Deliver | None) -> YookassaEmulator:
    return YookassaEmulator(YOOKASSA_KEYS["shop_id"], YOOKASSA_KEYS["secret_key"], deliver)


def environment(code: str, base_url: str) -> dict[str, str]:
    """The variables that configure the API's provider `code` for the emulator at `base_url`."""
    if code == "stripe":
        return {
            "STRIPE_API_BASE": base_url,
            "STRIPE_SECRET_KEY": STRIPE_KEYS["secret_key"],
            "STRIPE_WEBHOOK_SECRET": STRIPE_KEYS["webhook_secret"],
            "STRIPE_PUBLISHABLE_KEY": "pk_test_local_emulator",
        }
    if code == "paypal":
        return {
            "PAYPAL_API_BASE": base_url,
            "PAYPAL_CLIENT_ID": PAYPAL_KEYS["client_id"],
            "PAYPAL_CLIENT_SECRET": PAYPAL_KEYS["client_secret"],
            "PAYPAL_WEBHOOK_ID": PAYPAL_KEYS["webhook_id"],
        }
    return {
        "YOOKASSA_API_BASE": f"{base_url}/v3",
        "YOOKASSA_SHOP_ID": YOOKASSA_KEYS["shop_id"],
        "YOOKASSA_SECRET_KEY": YOOKASSA_KEYS["secret_key"],
        "YOOKASSA_ALLOWED_IPS": "127.0.0.1,::1",  # the emulator notifies from this machine
    }


BUILDERS: dict[str, Callable[[Deliver | None], Emulator]] = {
    "stripe": _stripe,
    "paypal": _paypal,
    "yookassa": _yookassa,
}


def start(deliver_for: Callable[[str], Deliver | None], ports: dict[str, int] | None = None) -> list[Emulated]:
    """Every emulator started on 127.0.0.1 (on `ports[code]`, else a free port), with its environment."""
    started = []
    for code, build in BUILDERS.items():
        emulator = build(deliver_for(code))
        base_url = emulator.start((ports or {}).get(code, 0))
        started.append(Emulated(code, emulator, environment(code, base_url)))
    return started
