"""What integration tests do as a buyer through the API, and how they edit stored records the API cannot reach.

Every buyer is a user the test registered itself under a unique e-mail, so tests that share one seeded account
(`api`) never see each other's invoices, subscriptions or tokens.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from chalicelib.catalog.models import PluginItem, SettingsItem
from chalicelib.catalog.repository import bump_version
from chalicelib.core import clock
from chalicelib.core.ids import seed_id
from chalicelib.core.times import unix
from chalicelib.payments import signatures
from chalicelib.plugins.registry import forget_cached_states
from chalicelib.store.transactions import Transaction
from tests.contract import BASIC, INVALID_TOKEN, NO_CREDENTIAL, PAGE_FIELDS, PASSWORD, TOKENS_100
from tests.integration.conftest import Answer, Api, outbox_events

CHECKOUT = "/api/v1/user/checkout"
SUBSCRIBE = "/api/v1/subscriptions"
PAYMENT_WEBHOOK = "/api/v1/webhooks/payment"
WEBHOOK_SECRET = "whsec_local_payment_webhook"  # PAYMENT_WEBHOOK_SECRETS of the `local` stage (seed-data.md §10)


# --- buyers -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Buyer:
    email: str
    user_id: str
    token: str


def register_buyer(api: Api, tag: str, **details: Any) -> Buyer:
    """A new user `<tag>-<random>@example.com` with PASSWORD; `details` (e.g. `country="DE"`) are PUT as the
    user's details."""
    email = f"{tag}-{uuid.uuid4().hex[:12]}@example.com"
    answer = api.post("/api/v1/auth/register", {"email": email, "password": PASSWORD})
    assert answer.status == 200, answer.json
    buyer = Buyer(email, answer.json["user_id"], answer.json["token"])
    if details:
        put = api.put("/api/v1/user/details", details, token=buyer.token)
        assert put.status == 200, put.json
    return buyer


def german_buyer(api: Api, tag: str) -> Buyer:
    """A new user with a German billing country (19 % VAT)."""
    return register_buyer(api, tag, country="DE")


def relogin(api: Api, buyer: Buyer) -> Buyer:
    """The buyer with a fresh access token (after the clock moved past the old one's lifetime)."""
    return replace(buyer, token=api.token(buyer.email, PASSWORD))


# --- buying and paying --------------------------------------------------------------------------------------------


def created(answer: Answer) -> dict[str, Any]:
    assert answer.status == 201, answer.json
    return answer.json  # type: ignore[no-any-return]


def checkout(api: Api, token: str, body: dict[str, Any], path: str = CHECKOUT) -> dict[str, Any]:
    """POST the checkout (or subscribe) body; the 201 answer."""
    return created(api.post(path, body, token=token))


def basket(
    plan: str | None = None, bundles: tuple[str, ...] = (), addons: tuple[str, ...] = (), method: str = "sandbox"
) -> dict[str, Any]:
    """A checkout body naming seeded items by plan slug, bundle name and add-on slug."""
    body: dict[str, Any] = {"payment_method_code": method}
    if plan is not None:
        body["plan_id"] = seed_id("plan", plan)
    if bundles:
        body["token_bundle_ids"] = [seed_id("bundle", name) for name in bundles]
    if addons:
        body["add_on_ids"] = [seed_id("addon", slug) for slug in addons]
    return body


def buy(
    api: Api, buyer: Buyer, plan: str | None = None, bundles: tuple[str, ...] = (), addons: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Check out seeded items (by slug and name) with the sandbox; the 201 answer."""
    return checkout(api, buyer.token, basket(plan, bundles, addons))


def buy_basic_and_tokens(api: Api, token: str, **body: Any) -> dict[str, Any]:
    """Check out the Basic plan and a 100-token bundle (15.46 EUR for a German buyer); `body` adds to the request."""
    return checkout(api, token, {"plan_id": BASIC, "token_bundle_ids": [TOKENS_100], **body})


def pay(api: Api, token: str | None, invoice_id: str, body: dict[str, Any] | None = None, **kwargs: Any) -> Answer:
    return api.post(f"/api/v1/user/invoices/{invoice_id}/pay", body or {}, token=token, **kwargs)


def paid(api: Api, token: str, invoice_id: str, **body: Any) -> dict[str, Any]:
    """Pay an invoice (with its recorded method unless `body` names one); the 200 answer."""
    answer = pay(api, token, invoice_id, body)
    assert answer.status == 200, answer.json
    return answer.json  # type: ignore[no-any-return]


def buy_tokens(api: Api, token: str, bundle: str = "100 Tokens") -> dict[str, Any]:
    """Buy and pay one token bundle with the sandbox; the checkout's answer."""
    bought = checkout(api, token, basket(bundles=(bundle,)))
    paid(api, token, bought["invoice"]["id"])
    return bought


def token_holder(api: Api, tag: str, bundle: str = "100 Tokens") -> Buyer:
    """A new user holding the tokens of one bought and paid bundle."""
    holder = register_buyer(api, tag)
    buy_tokens(api, holder.token, bundle)
    return holder


# --- reads --------------------------------------------------------------------------------------------------------


def read(api: Api, path: str, token: str) -> Any:
    answer = api.get(path, token=token)
    assert answer.status == 200, answer.json
    return answer.json


def ids(items: list[dict[str, Any]]) -> list[str]:
    """The ids of a list answer's items, in order."""
    return [item["id"] for item in items]


def assert_page(body: dict[str, Any], key: str, expected_ids: list[str], **paging: int) -> None:
    """A page of a list (README §1.11): the list `key`, holding `expected_ids`, and the paging keys, nothing else;
    `paging` gives every key's value but the cursor's (opaque: a test follows it)."""
    assert set(body) == {key} | PAGE_FIELDS, sorted(body)
    assert ids(body[key]) == expected_ids
    assert {k: body[k] for k in PAGE_FIELDS - {"next_cursor"}} == paging


def invoice_of(api: Api, token: str, invoice_id: str) -> dict[str, Any]:
    body = read(api, f"/api/v1/user/invoices/{invoice_id}", token)
    assert set(body) == {"invoice"}
    return body["invoice"]  # type: ignore[no-any-return]


def balance_of(api: Api, token: str) -> int:
    return int(read(api, "/api/v1/user/tokens/balance", token)["balance"])


def ledger_of(api: Api, token: str) -> list[dict[str, Any]]:
    """The user's token ledger, newest first (up to 100 entries)."""
    return read(api, "/api/v1/user/tokens/transactions?limit=100", token)["transactions"]  # type: ignore[no-any-return]


def events_about(event_type: str, key: str, value: str) -> list[dict[str, Any]]:
    """The outbox's events of one type whose data has `key` = `value` (the outbox holds every test's events)."""
    return [e for e in outbox_events(event_type) if e["data"].get(key) == value]


def assert_token_required(api: Api, path: str, bad_token: str = "not-a-jwt") -> None:
    answer = api.get(path)
    assert answer.status == 401
    assert answer.json == NO_CREDENTIAL
    answer = api.get(path, token=bad_token)
    assert answer.status == 401
    assert answer.json == INVALID_TOKEN


# --- payment notifications (checkout-and-payments.md §8.1) --------------------------------------------------------


def notification(invoice: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A payment notification that settles `invoice` in full; `fields` override (None leaves one out)."""
    body = {
        "event_id": f"evt_{uuid.uuid4().hex}",
        "invoice_id": invoice["id"],
        "payment_reference": f"BANK-{uuid.uuid4().hex[:10]}",
        "amount": invoice["total_amount"],
        "currency": invoice["currency"],
    }
    body.update(fields)
    return {k: v for k, v in body.items() if v is not None}


def deliver(api: Api, body: dict[str, Any] | bytes) -> Answer:
    """POST a notification to the payment webhook, signed now with the stage's secret."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {
        "X-VBWD-Signature": signatures.header(WEBHOOK_SECRET, unix(clock.now()), raw),
        "Content-Type": "application/json",
    }
    return api.request("POST", PAYMENT_WEBHOOK, body=raw, headers=headers)


# --- stored state the routes under test cannot reach ----------------------------------------------------------------


def change(model: Any, pk: str, sk: str, **values: Any) -> None:
    """Set attributes of one stored catalog record, as an admin write would (the catalog version moves)."""
    item = model.get(pk, sk, consistent_read=True)
    for name, value in values.items():
        setattr(item, name, value)
    tx = Transaction().put(item)
    bump_version(tx, datetime.now(UTC))
    tx.commit()
    forget_cached_states()


def change_settings(**values: Any) -> None:
    """Merge `values` into the stored settings, as an admin write would."""
    item = SettingsItem.get(*SettingsItem.key(SettingsItem.NAME), consistent_read=True)
    item.values = {**item.values, **values}
    tx = Transaction().put(item)
    bump_version(tx, datetime.now(UTC))
    tx.commit()


def set_plugin(name: str, enabled: bool) -> None:
    change(PluginItem, *PluginItem.key(name), enabled=enabled)


def set_holding(model: Any, user_id: str, item_id: str, **values: Any) -> None:
    """Put a user's subscription or add-on subscription into a state the routes under test cannot reach (as the
    lifecycle job or an admin would leave it)."""
    item = model.get(*model.key(user_id, item_id), consistent_read=True)
    for name, value in values.items():
        setattr(item, name, value)
    Transaction().put(item).commit()
