"""Subscriptions still billed by Stripe's own recurring billing (checkout-and-payments.md §10.4, legacy rows):
`invoice.paid` renews them by one period on a RENEWAL invoice, once per Stripe invoice; `invoice.payment_failed`
makes them PAST_DUE; `customer.subscription.deleted` cancels them; a user's cancellation is sent to Stripe; and
the lifecycle job never bills them itself.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.catalog.repository import reference
from chalicelib.invoices.models import InvoiceItem
from chalicelib.jobs import run
from chalicelib.store.transactions import Transaction
from chalicelib.subscriptions import repository as subscriptions
from chalicelib.subscriptions.models import SubscriptionItem
from chalicelib.subscriptions.policy import LifecyclePolicy
from chalicelib.users.models import UserItem, user_key
from infra.emulators.providers import Emulated
from tests.integration.buyers import Buyer, basket, checkout, pay, read, register_buyer, relogin
from tests.integration.conftest import Api, drain_events, outbox_events
from tests.integration.hosted import deliver_webhooks, press

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def legacy_subscriber(
    api: Api, providers: dict[str, Emulated], clock: Any, tag: str
) -> tuple[Buyer, SubscriptionItem, str]:
    """A buyer whose Basic subscription is billed by a Stripe subscription of their Stripe customer."""
    clock.set(T0)
    buyer = register_buyer(api, f"legacy-{tag}", country="DE")
    order = checkout(api, buyer.token, basket("basic", method="stripe"))
    press(
        pay(api, buyer.token, order["invoice"]["id"], {"payment_method_code": "stripe"}).json["payment"]["session_url"],
        "pay",
    )
    deliver_webhooks(providers)
    user = UserItem.get(*user_key(buyer.user_id), consistent_read=True)
    stripe: Any = providers["stripe"].emulator
    stripe_sub = stripe.create_subscription(user.payment_customers["stripe"], 1189)
    sub = subscriptions.subscription_of(buyer.user_id, order["subscription"]["id"])
    assert sub is not None and sub.status == "ACTIVE"
    tx = Transaction()
    subscriptions.link_provider_subscription(tx, sub, "stripe", stripe_sub["id"], LifecyclePolicy.of(reference()))
    tx.commit()
    return buyer, sub, stripe_sub["id"]


def current(sub: SubscriptionItem) -> SubscriptionItem:
    found = subscriptions.subscription_of(sub.user_id, sub.id)
    assert found is not None
    return found


def renewals(buyer: Buyer, api: Api) -> list[InvoiceItem]:
    listed = read(api, "/api/v1/user/invoices", relogin(api, buyer).token)["invoices"]
    found = [InvoiceItem.get(*InvoiceItem.key(i["id"]), consistent_read=True) for i in listed]
    return [i for i in found if i.billing_reason == "RENEWAL"]


def test_invoice_paid_renews_by_one_period_once_per_stripe_invoice(
    api: Api, providers: dict[str, Emulated], manual_clock: Any
) -> None:
    buyer, sub, stripe_sub = legacy_subscriber(api, providers, manual_clock, "paid")
    stripe: Any = providers["stripe"].emulator
    stripe.subscription_invoice(stripe_sub, paid=True)
    deliver_webhooks(providers)
    (renewal,) = renewals(buyer, api)
    assert (renewal.status, renewal.payment_method, int(renewal.capture_count)) == ("PAID", "stripe", 1)
    assert renewal.payment_ref.startswith("in_")
    after = current(sub)
    assert after.status == "ACTIVE" and after.expires_at == datetime(2026, 7, 1, 9, 0, tzinfo=UTC)
    for delivery in stripe.delivered[-1:]:  # Stripe delivers it again
        stripe.enqueue(delivery.headers, delivery.body)
    deliver_webhooks(providers)
    assert len(renewals(buyer, api)) == 1 and current(sub).expires_at == after.expires_at


def test_invoice_payment_failed_makes_it_past_due_and_deleted_cancels_it(
    api: Api, providers: dict[str, Emulated], manual_clock: Any
) -> None:
    _, sub, stripe_sub = legacy_subscriber(api, providers, manual_clock, "failed")
    stripe: Any = providers["stripe"].emulator
    stripe.subscription_invoice(stripe_sub, paid=False)
    deliver_webhooks(providers)
    assert current(sub).status == "PAST_DUE"
    assert [e for e in outbox_events("subscription.past_due") if e["data"]["subscription_id"] == sub.id]
    stripe.delete_subscription(stripe_sub)
    deliver_webhooks(providers)
    ended = current(sub)
    assert (ended.status, ended.cancel_reason) == ("CANCELLED", "provider")


@pytest.mark.parametrize("immediately", [False, True], ids=["at-period-end", "immediately"])
def test_a_users_cancellation_is_sent_to_stripe(
    api: Api, providers: dict[str, Emulated], manual_clock: Any, immediately: bool
) -> None:
    buyer, sub, stripe_sub = legacy_subscriber(api, providers, manual_clock, "cancel")
    suffix = "?immediately=true" if immediately else ""
    answer = api.post(f"/api/v1/user/subscriptions/{sub.id}/cancel{suffix}", {}, token=relogin(api, buyer).token)
    assert answer.status == 200, answer.json
    stripe: Any = providers["stripe"].emulator
    at_stripe = stripe.objects[stripe_sub]
    if immediately:
        assert at_stripe["status"] == "canceled"
        deliver_webhooks(providers)  # Stripe's deleted event: already cancelled here
        assert current(sub).status == "CANCELLED"
    else:
        assert at_stripe["cancel_at_period_end"] is True and at_stripe["status"] == "active"
        assert current(sub).cancel_at_period_end


def test_the_lifecycle_job_never_bills_a_legacy_subscription(
    api: Api, providers: dict[str, Emulated], manual_clock: Any
) -> None:
    buyer, sub, _ = legacy_subscriber(api, providers, manual_clock, "job")
    manual_clock.set(datetime(2026, 5, 31, 10, 0, tzinfo=UTC))  # past the renewal lead time
    run("subscription-lifecycle")
    drain_events()
    assert renewals(buyer, api) == []
    manual_clock.set(datetime(2026, 6, 2, 10, 0, tzinfo=UTC))  # past the period end: Stripe decides, not us
    run("subscription-lifecycle")
    drain_events()
    assert current(sub).status == "ACTIVE"
