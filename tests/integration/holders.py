"""Subscription holders for the tests of the user's plan changes, cancels and pauses (subscriptions.md §8–§9).

A `Holder` is a new user (German billing country unless told otherwise) who buys through the API and changes what
they hold through the API. `open_renewal` stands in for the lifecycle job (built in parallel): it writes the renewal
invoice of a subscription's next period the way the job does — through `invoices.issue` and the subscription
repository, in one transaction conditional on the subscription's version.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from chalicelib.catalog.repository import reference
from chalicelib.core import clock
from chalicelib.core.ids import seed_id
from chalicelib.store.retry import retrying
from chalicelib.store.transactions import Transaction
from chalicelib.subscriptions import repository
from chalicelib.subscriptions.models import SubscriptionItem
from chalicelib.subscriptions.policy import LifecyclePolicy
from chalicelib.users.models import UserItem, user_key
from tests.contract import PASSWORD
from tests.integration.buyers import Buyer, basket, checkout, events_about, paid, read, register_buyer
from tests.integration.conftest import Answer, Api

SUBSCRIPTIONS = "/api/v1/user/subscriptions"
NOT_FOUND = {"error": "Subscription not found"}
TOKEN_LIFETIME = timedelta(minutes=10)  # access tokens live 15 minutes: sign in again before that


def plan_id(slug: str) -> str:
    return seed_id("plan", slug)


class Holder:
    """A new user who buys with the sandbox (or another method) and changes their subscriptions through the API."""

    def __init__(self, api: Api, tag: str, country: str | None = "DE") -> None:
        self.api = api
        self.buyer: Buyer = register_buyer(api, tag, **({"country": country} if country else {}))
        self.signed_in_at = clock.now()

    @property
    def user_id(self) -> str:
        return self.buyer.user_id

    @property
    def token(self) -> str:
        """A valid access token at the clock's current time (signs in again after the clock moved on)."""
        now = clock.now()
        if not self.signed_in_at <= now < self.signed_in_at + TOKEN_LIFETIME:
            self.buyer = Buyer(self.buyer.email, self.user_id, self.api.token(self.buyer.email, PASSWORD))
            self.signed_in_at = now
        return self.buyer.token

    # --- buying ---------------------------------------------------------------------------------------------

    def checkout(self, plan: str | None = None, addons: tuple[str, ...] = (), **extra: Any) -> dict[str, Any]:
        """Check out seeded items by slug with the sandbox (`bundles=`, `method=` as for `basket`)."""
        body = basket(plan, extra.pop("bundles", ()), addons, extra.pop("method", "sandbox"))
        return checkout(self.api, self.token, {**body, **extra})

    def subscribe(
        self, plan: str, addons: tuple[str, ...] = (), *, trial: bool = False, saved: bool = False
    ) -> dict[str, Any]:
        """An ACTIVE subscription to `plan` (bought and paid now), or a TRIALING one (`trial=True`, unpaid);
        without a saved off-session method unless `saved`. The subscription as the API shows it."""
        if not trial:
            self.skip_trials()
        bought = self.checkout(plan, addons)
        if not trial:
            self.pay(bought["invoice"]["id"])
            if not saved:
                self.set(bought["subscription"]["id"], saved_payment_method=None)
        return self.subscription(bought["subscription"]["id"])

    def skip_trials(self) -> None:
        """Mark the user's trial used, so that a checkout of a plan with trial days buys it at once."""
        user = UserItem.get(*user_key(self.user_id), consistent_read=True)
        user.has_used_trial = True
        Transaction().put(user).commit()

    def pay(self, invoice_id: str) -> dict[str, Any]:
        return paid(self.api, self.token, invoice_id)

    # --- reads ----------------------------------------------------------------------------------------------

    def subscription(self, subscription_id: str) -> dict[str, Any]:
        return read(self.api, f"{SUBSCRIPTIONS}/{subscription_id}", self.token)["subscription"]  # type: ignore[no-any-return]

    def invoice(self, invoice_id: str) -> dict[str, Any]:
        return read(self.api, f"/api/v1/user/invoices/{invoice_id}", self.token)["invoice"]  # type: ignore[no-any-return]

    def addon(self, addon_subscription_id: str) -> dict[str, Any]:
        path = f"/api/v1/user/addons/{addon_subscription_id}"
        return read(self.api, path, self.token)["addon_subscription"]  # type: ignore[no-any-return]

    def balance(self) -> int:
        return int(read(self.api, "/api/v1/user/tokens/balance", self.token)["balance"])

    def stored(self, subscription_id: str) -> SubscriptionItem:
        found = repository.subscription_of(self.user_id, subscription_id)
        assert found is not None
        return found

    # --- changes --------------------------------------------------------------------------------------------

    def post(self, subscription_id: str, action: str, body: Any = None, query: str = "", **kwargs: Any) -> Answer:
        path = f"{SUBSCRIPTIONS}/{subscription_id}/{action}{query}"
        return self.api.post(path, body, token=self.token, **kwargs)

    def ok(self, subscription_id: str, action: str, body: Any = None, query: str = "") -> dict[str, Any]:
        answer = self.post(subscription_id, action, body, query)
        assert answer.status == 200, answer.json
        return answer.json  # type: ignore[no-any-return]

    def proration(self, subscription_id: str, query: str) -> Answer:
        return self.api.get(f"{SUBSCRIPTIONS}/{subscription_id}/proration{query}", token=self.token)

    def set(self, subscription_id: str, **values: Any) -> None:
        """Put the stored subscription into a state the routes under test cannot reach (as the lifecycle job or an
        admin would leave it); its index keys follow."""
        sub = self.stored(subscription_id)
        for name, value in values.items():
            setattr(sub, name, value)
        tx = Transaction()
        repository.update_subscription(tx, sub, LifecyclePolicy.of(reference()))
        tx.commit()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def events(event_type: str, subscription_id: str) -> list[dict[str, Any]]:
    """The `data` of the subscription's events of one type, oldest first."""
    return [e["data"] for e in events_about(event_type, "subscription_id", subscription_id)]


def invoice_events(event_type: str, invoice_id: str) -> list[dict[str, Any]]:
    return [e["data"] for e in events_about(event_type, "invoice_id", invoice_id)]


def addon_events(event_type: str, addon_subscription_id: str) -> list[dict[str, Any]]:
    return [e["data"] for e in events_about(event_type, "addon_subscription_id", addon_subscription_id)]


# --- a stand-in for the lifecycle job's renewal invoice ---------------------------------------------------------


def open_renewal(user_id: str, subscription_id: str) -> str:
    """The RENEWAL invoice of the subscription's next period, issued by the lifecycle job's own issuing step
    (`steps.issue_renewal`, subscriptions.md §7.1) but not charged yet — the moment a plan change meets an open
    renewal. Its id."""
    from chalicelib.catalog.repository import reference
    from chalicelib.lifecycle import steps

    def step() -> str:
        sub = repository.subscription_of(user_id, subscription_id)
        assert sub is not None and sub.renewal_invoice_id is None
        ref = reference()
        steps.issue_renewal(steps.Ctx(sub, ref, LifecyclePolicy.of(ref), clock.now()))
        issued = repository.subscription_of(user_id, subscription_id)
        assert issued is not None and issued.renewal_invoice_id is not None
        return str(issued.renewal_invoice_id)

    return retrying(step)


def configure(**values: Any) -> None:
    """Merge `values` into the subscription plugin's stored config (subscriptions.md §13), as an admin would."""
    from chalicelib.catalog.models import PluginItem
    from tests.integration.buyers import change

    stored = PluginItem.get(*PluginItem.key("subscription"), consistent_read=True)
    change(PluginItem, *PluginItem.key("subscription"), config={**(stored.config or {}), **values})


# --- for scenarios: every line and the events in the order they were written -----------------------------------


def line_table(invoice: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Each line as (type, description, unit, net, tax, gross, period start, period end)."""
    return [
        (
            line["item_type"],
            line["description"],
            line["unit_price"],
            line["net_amount"],
            line["tax_amount"],
            line["gross_amount"],
            (line.get("metadata") or {}).get("period_start"),
            (line.get("metadata") or {}).get("period_end"),
        )
        for line in invoice["line_items"]
    ]


def invoice_totals(invoice: dict[str, Any]) -> tuple[str, str, str, str]:
    return invoice["status"], invoice["subtotal"], invoice["tax_amount"], invoice["total_amount"]


class Story:
    """The events of one user written since the last look, oldest transaction first (the seed's are left out)."""

    def __init__(self, user_id: str) -> None:
        self.user_id = user_id
        self.seen: set[str] = set()
        self.new()

    def new(self) -> list[str]:
        from chalicelib.store.outbox import OutboxItem

        batches = sorted((i for i in OutboxItem.scan() if i.batch_id not in self.seen), key=lambda i: i.created_at)
        self.seen.update(batch.batch_id for batch in batches)
        return [
            envelope["type"]
            for batch in batches
            for envelope in batch.envelopes
            if (envelope.get("data") or {}).get("user_id") == self.user_id
        ]


def ledger_lines(holder: Holder) -> list[tuple[int, str, str]]:
    """The holder's token ledger, oldest first, as (amount, type, description)."""
    from tests.integration.buyers import ledger_of

    entries = ledger_of(holder.api, holder.token)
    return [(e["amount"], e["transaction_type"], e["description"]) for e in reversed(entries)]
