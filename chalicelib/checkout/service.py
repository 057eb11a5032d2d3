"""Checkout (contract checkout-and-payments.md §5.1): one invoice and its pending purchases, in one transaction.

The basket arrives typed, rules 1–2 already checked (`checkout.schemas`). Reads: the buyer, their details and
token balance and the catalog version (one BatchGetItem; the catalog snapshot is re-read only when its version
moved) and the buyer's live subscriptions and add-ons (one Query of the `live` index, whatever their history). Then
rules 3–8 in the contract's order; the invoice number (one atomic UpdateItem of the series' counter, shared with
no one's transaction: concurrent checkouts never wait for each other's number); then one TransactWriteItems —
written through the repositories of the records — that holds the invoice and its number's guard, the user's
invoice counts, the subscription, the purchases, the add-on subscriptions, the buyer's trial flag, the events and
the stored Idempotency-Key answer. A zero total is captured inside that same transaction. A retry reuses the number
the first attempt took; a checkout that gives up after taking one leaves it voided (`store.numbering`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from chalicelib.catalog.models import AddonItem, CatalogVersionItem, CurrencyItem, PlanItem, TaxItem, TokenBundleItem
from chalicelib.catalog.pricing import Currencies, applicable_tax
from chalicelib.catalog.repository import Reference, reference
from chalicelib.core import clock
from chalicelib.core.errors import BadRequest
from chalicelib.core.ids import new_id
from chalicelib.core.money import ZERO, format_fixed, format_money
from chalicelib.core.times import iso
from chalicelib.events.catalog import SubscriptionCreated, SubscriptionTrialStarted
from chalicelib.events.envelope import Actor, Event
from chalicelib.invoices import repository as invoice_store
from chalicelib.invoices import serializers as invoice_json
from chalicelib.invoices.builder import Line
from chalicelib.invoices.issue import InvoiceDraft, issue
from chalicelib.invoices.models import InvoiceItem, TokenBundlePurchaseItem
from chalicelib.payments.activation import Activation
from chalicelib.payments.methods import default_method, usable
from chalicelib.payments.outcomes import Payment
from chalicelib.store.numbering import guard_refused
from chalicelib.store.reads import batch_get
from chalicelib.store.retry import retrying
from chalicelib.store.transactions import Transaction, TransactionCancelled
from chalicelib.subscriptions import repository as subscription_store
from chalicelib.subscriptions import serializers as subscription_json
from chalicelib.subscriptions.events import subscription_data
from chalicelib.subscriptions.models import (
    HOLDING_STATUSES,
    VALID_STATUSES,
    AddonSubscriptionItem,
    SubscriptionItem,
)
from chalicelib.subscriptions.policy import LifecyclePolicy
from chalicelib.tokens.ledger import Ledger
from chalicelib.tokens.models import TokenBalanceItem
from chalicelib.users import repository as user_store
from chalicelib.users.models import UserDetailsItem, UserItem, details_key, user_key

if TYPE_CHECKING:
    from chalicelib.auth.principal import Principal
    from chalicelib.checkout.schemas import Basket
    from chalicelib.core.idempotency import AnswerRecorder

ATTEMPTS = 8
DEFAULT_MAX_SUBSCRIPTIONS = 10


@dataclass
class Context:
    """Everything a checkout reads, at one moment."""

    now: datetime
    user: UserItem
    details: UserDetailsItem | None
    balance: TokenBalanceItem | None
    ref: Reference
    subscriptions: list[SubscriptionItem]
    addon_subscriptions: list[AddonSubscriptionItem]

    @property
    def country(self) -> str | None:
        return self.details.country if self.details else None


@dataclass
class Order:
    """A basket that passed every rule: priced, taxed, with the method and the parents of its add-ons."""

    currency: CurrencyItem
    places: int
    tax: TaxItem | None
    plan: PlanItem | None
    trial: bool
    bundles: list[TokenBundleItem]
    addons: list[tuple[AddonItem, SubscriptionItem | None]]  # add-on and its existing parent, if bought alone
    lines: list[Line] = field(default_factory=list)
    total: Decimal = ZERO


def checkout(principal: Principal, basket: Basket, recorder: AnswerRecorder | None = None) -> dict[str, Any]:
    """Check the basket against the catalog and the buyer's holdings, then write everything it buys at once."""

    def attempt() -> dict[str, Any]:
        ctx = _load(principal.user_id)
        order = _validate(ctx, basket)
        tx = Transaction()
        answer = _write(ctx, order, basket, tx)
        if recorder is not None:
            recorder.record(tx, answer)
        tx.commit()
        return answer

    return retrying(attempt, tries=ATTEMPTS, retry_on=_buyer_or_number_changed)


def _buyer_or_number_changed(exc: TransactionCancelled) -> bool:
    """The buyer (trial flag) or their balance changed, or the number was voided while this checkout stalled (the
    next attempt takes a new one): read again."""
    return exc.conflict or guard_refused(exc.failed) or "user" in exc.failed or "balance" in exc.failed


def _load(user_id: str) -> Context:
    now = clock.now()
    user, details, balance, version = batch_get(
        [
            (UserItem, *user_key(user_id)),
            (UserDetailsItem, *details_key(user_id)),
            (TokenBalanceItem, *TokenBalanceItem.key(user_id)),
            (CatalogVersionItem, *CatalogVersionItem.key()),
        ]
    )
    if not isinstance(user, UserItem):
        raise LookupError("the buyer no longer exists")
    ref = reference(version.token if isinstance(version, CatalogVersionItem) else "")
    # Only what counts for the rules (places held, live add-ons): a history of ended or abandoned ones costs nothing.
    subscriptions, addon_subscriptions = subscription_store.live_holdings(user_id)
    return Context(
        now=now,
        user=user,
        details=details if isinstance(details, UserDetailsItem) else None,
        balance=balance if isinstance(balance, TokenBalanceItem) else None,
        ref=ref,
        subscriptions=subscriptions,
        addon_subscriptions=addon_subscriptions,
    )


# --- the rules of §5.1, in order -----------------------------------------------------------------------------


def _validate(ctx: Context, basket: Basket) -> Order:
    ref = ctx.ref
    currencies = Currencies.of(ref.currencies)
    if basket.currency is not None:
        currencies.active(basket.currency)  # rule 3
    plan = _plan_rules(ctx, basket)
    currency = currencies.active(basket.currency) if basket.currency else None
    if currency is None:
        currency = currencies.by_code.get(plan.currency) if plan else None
        currency = currency or currencies.default
    order = Order(
        currency=currency,
        places=int(currency.decimal_places),
        tax=applicable_tax(ctx.country, ref.taxes, ref.tax_classes),
        plan=plan,
        trial=bool(plan and plan.trial_days and plan.price != 0 and not ctx.user.has_used_trial),
        bundles=[_bundle(ref, bundle_id) for bundle_id in basket.bundle_ids],
        addons=[_addon_rules(ctx, plan, addon_id) for addon_id in basket.addon_ids],
    )
    _price(ctx, order, currencies)
    return order


def _plan_rules(ctx: Context, basket: Basket) -> PlanItem | None:
    if basket.plan_id is None:
        return None
    plan = ctx.ref.plan(basket.plan_id)
    if plan is None:
        raise BadRequest("Plan not found")
    if not plan.is_active:
        raise BadRequest("Plan is not active")
    holding = [s for s in ctx.subscriptions if s.status in HOLDING_STATUSES]
    maximum = _max_subscriptions(ctx.ref)
    if len(holding) + 1 > maximum:
        raise BadRequest(f"Maximum number of subscriptions reached ({maximum})")
    categories = ctx.ref.categories_by_id()
    for category_id in plan.category_ids:
        category = categories.get(category_id)
        if category is None or not category.is_single:
            continue
        for sub in holding:
            held = ctx.ref.plan(sub.tarif_plan_id)
            if held is not None and category_id in held.category_ids:
                raise BadRequest(
                    f"User already has an active subscription in category '{category.name}'. "
                    "Please upgrade or downgrade instead."
                )
    return plan


def _max_subscriptions(ref: Reference) -> int:
    plugin = next((p for p in ref.plugins if p.name == "subscription"), None)
    value = (plugin.config or {}).get("max_subscriptions_per_user") if plugin else None
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else DEFAULT_MAX_SUBSCRIPTIONS


def _bundle(ref: Reference, bundle_id: str) -> TokenBundleItem:
    bundle = ref.token_bundle(bundle_id)
    if bundle is None:
        raise BadRequest(f"Token bundle {bundle_id} not found")
    if not bundle.is_active:
        raise BadRequest(f"Token bundle {bundle.name} is not active")
    return bundle


def _addon_rules(ctx: Context, plan: PlanItem | None, addon_id: str) -> tuple[AddonItem, SubscriptionItem | None]:
    addon = ctx.ref.addon(addon_id)
    if addon is None:
        raise BadRequest(f"Add-on {addon_id} not found")
    if not addon.is_active:
        raise BadRequest(f"Add-on {addon.name} is not active")
    parent = None
    if addon.plan_ids and not (plan is not None and plan.id in addon.plan_ids):
        valid = [s for s in ctx.subscriptions if s.status in VALID_STATUSES and s.tarif_plan_id in addon.plan_ids]
        if not valid:
            raise BadRequest(f"Add-on {addon.name} is not available for your plan")
        parent = max(valid, key=lambda s: s.created_at)
    if addon.billing_period != "ONE_TIME" and plan is None:  # bought with a plan, its parent is brand new
        parent_id = parent.id if parent else None
        for held in ctx.addon_subscriptions:
            if held.addon_id == addon.id and held.status == "ACTIVE" and held.subscription_id == parent_id:
                raise BadRequest(f"Add-on {addon.name} is already active")
    return addon, parent


def _converted(
    currencies: Currencies, price: Decimal, source: str, target: CurrencyItem
) -> tuple[Decimal, dict[str, Any]]:
    """The unit price in the invoice currency, and the metadata that records a conversion (§3.2)."""
    if source == target.code:
        return price, {}
    converted = currencies.convert(price, source, target)
    rate = target.exchange_rate / currencies.by_code[source].exchange_rate
    return converted, {
        "original_currency": source,
        "original_unit_price": format_money(price, currencies.places(source)),
        "exchange_rate": format_fixed(rate, 6),
    }


def _price(ctx: Context, order: Order, currencies: Currencies) -> None:
    target = order.currency
    reason = "SUBSCRIPTION_CREATE" if order.plan else "PURCHASE"
    if order.plan is not None:
        plan = order.plan
        unit, extra = _converted(currencies, plan.price, plan.currency, target)
        metadata: dict[str, Any] = {
            "billing_reason": "SUBSCRIPTION_CREATE",
            "plan_id": plan.id,
            "plan_slug": plan.slug,
            "billing_period": plan.billing_period,
            "period_start": None,
            "period_end": None,
        }
        if order.trial:
            metadata["trial_end_at"] = iso(ctx.now + timedelta(days=int(plan.trial_days)))
        order.lines.append(Line(new_id(), "SUBSCRIPTION", plan.name, unit, metadata={**metadata, **extra}))
    for bundle in order.bundles:
        unit, extra = _converted(currencies, bundle.price, bundle.currency, target)
        metadata = {"bundle_id": bundle.id, "token_amount": int(bundle.token_amount), **extra}
        order.lines.append(Line(new_id(), "TOKEN_BUNDLE", bundle.name, unit, metadata=metadata))
    for addon, _ in order.addons:
        unit, extra = _converted(currencies, addon.price, addon.currency, target)
        metadata = {
            "addon_id": addon.id,
            "addon_slug": addon.slug,
            "billing_period": addon.billing_period,
            "period_start": None,
            "period_end": None,
            "billing_reason": reason,
            **extra,
        }
        order.lines.append(Line(new_id(), "ADD_ON", addon.name, unit, metadata=metadata))


# --- the transaction -----------------------------------------------------------------------------------------


def _payment_method(ctx: Context, basket: Basket, order: Order, total: Decimal) -> str | None:
    if basket.payment_method_code is not None:
        method = usable(ctx.ref, basket.payment_method_code, order.currency.code, ctx.country, total)
        if method is None:
            raise BadRequest(f"Payment method not available: {basket.payment_method_code}")
        return method.code
    default = default_method(ctx.ref, order.currency.code, ctx.country, total)
    return default.code if default else None


def _write(ctx: Context, order: Order, basket: Basket, tx: Transaction) -> dict[str, Any]:
    now, user = ctx.now, ctx.user
    invoice_id = new_id()
    prefix = str(ctx.ref.settings["invoice_prefix"])
    actor = Actor.user(user.id)
    plan = order.plan
    subscription = _subscription(ctx, order, invoice_id) if plan else None
    purchases = []
    addon_subscriptions = []
    lines = []
    bundle_iter = iter(order.bundles)
    addon_iter = iter(order.addons)
    for line in order.lines:
        if line.item_type == "SUBSCRIPTION" and subscription is not None:
            lines.append(_bind(line, subscription.id, plan.id if plan else None))
        elif line.item_type == "TOKEN_BUNDLE":
            purchase = _purchase(ctx, next(bundle_iter), line, order, invoice_id)
            purchases.append(purchase)
            lines.append(_bind(line, purchase.id, purchase.bundle_id))
        else:
            addon, parent = next(addon_iter)
            addon_sub = _addon_subscription(ctx, addon, subscription or parent, order, invoice_id)
            addon_subscriptions.append(addon_sub)
            lines.append(_bind(line, addon_sub.id, addon.id))
    trial_end = subscription.trial_end_at if subscription is not None and order.trial else None
    due = trial_end or now + timedelta(days=int(ctx.ref.settings["invoice_due_days"]))
    zero = sum((line.unit_price * line.quantity for line in lines), ZERO) == 0
    draft = InvoiceDraft(
        invoice_id=invoice_id,
        user_id=user.id,
        prefix=prefix,
        billing_reason="SUBSCRIPTION_CREATE" if plan else "PURCHASE",
        currency=order.currency.code,
        places=order.places,
        lines=lines,
        tax=order.tax,
        details=ctx.details,
        tarif_plan_id=plan.id if plan else None,
        subscription_id=subscription.id if subscription else None,
        due_date=due,
    )
    invoice = issue(
        tx,
        draft,
        now,
        actor,
        add=not zero,
        choose_method=lambda total: _payment_method(ctx, basket, order, total),
    )
    if subscription is not None:
        subscription.payment_method_code = invoice.payment_method
    created: list[Any] = [invoice, *purchases, *addon_subscriptions]
    if subscription is not None:
        created.append(subscription)
    events: list[Event] = []
    if subscription is not None and plan is not None:
        events.append(
            Event(
                SubscriptionCreated(
                    **subscription_data(subscription, plan),
                    invoice_id=invoice.id,
                    trial_end_at=iso(subscription.trial_end_at),
                ),
                actor,
                occurred_at=now,
            )
        )
        if order.trial:
            events.append(
                Event(
                    SubscriptionTrialStarted(
                        **subscription_data(subscription, plan), trial_end_at=iso(subscription.trial_end_at)
                    ),
                    actor,
                    occurred_at=now,
                )
            )
    if order.trial:
        user_store.mark_trial_used(tx, user, now)
    tx.events.extend(events)
    if zero:
        _capture_free(ctx, invoice, purchases, subscription, addon_subscriptions, created, tx, actor)
    else:
        for purchase in purchases:
            invoice_store.add_purchase(tx, purchase)
        policy = LifecyclePolicy.of(ctx.ref)
        if subscription is not None:
            subscription_store.add_subscription(tx, subscription, policy)
        for addon_subscription in addon_subscriptions:
            subscription_store.add_addon_subscription(tx, addon_subscription, policy)
    return _answer(ctx, order, invoice, subscription, purchases, addon_subscriptions, zero)


def _bind(line: Line, item_id: str, catalog_item_id: str | None) -> Line:
    return Line(
        line.line_id,
        line.item_type,
        line.description,
        line.unit_price,
        item_id=item_id,
        catalog_item_id=catalog_item_id,
        quantity=line.quantity,
        metadata=line.metadata,
    )


def _subscription(ctx: Context, order: Order, invoice_id: str) -> SubscriptionItem:
    plan = order.plan
    assert plan is not None
    now = ctx.now
    sub_id = new_id()
    pk, sk = SubscriptionItem.key(ctx.user.id, sub_id)
    categories = ctx.ref.categories_by_id()
    sub = SubscriptionItem(
        pk,
        sk,
        id=sub_id,
        user_id=ctx.user.id,
        tarif_plan_id=plan.id,
        status="TRIALING" if order.trial else "PENDING",
        currency=order.currency.code,
        pending_invoice_id=invoice_id,
        exclusive_category_ids=[c for c in plan.category_ids if c in categories and categories[c].is_single],
        created_at=now,
        updated_at=now,
    )
    if order.trial:
        trial_end = now + timedelta(days=int(plan.trial_days))
        sub.started_at = now
        sub.trial_end_at = trial_end
        sub.expires_at = trial_end
    return sub


def _purchase(
    ctx: Context, bundle: TokenBundleItem, line: Line, order: Order, invoice_id: str
) -> TokenBundlePurchaseItem:
    purchase_id = new_id()
    pk, sk = TokenBundlePurchaseItem.key(invoice_id, purchase_id)
    return TokenBundlePurchaseItem(
        pk,
        sk,
        id=purchase_id,
        user_id=ctx.user.id,
        bundle_id=bundle.id,
        invoice_id=invoice_id,
        status="PENDING",
        tokens_credited=False,
        token_amount=int(bundle.token_amount),
        price=line.unit_price,
        currency=order.currency.code,
        created_at=ctx.now,
    )


def _addon_subscription(
    ctx: Context, addon: AddonItem, parent: SubscriptionItem | None, order: Order, invoice_id: str
) -> AddonSubscriptionItem:
    addon_sub_id = new_id()
    pk, sk = AddonSubscriptionItem.key(ctx.user.id, addon_sub_id)
    trialing = order.trial and parent is not None and parent.status == "TRIALING"
    item = AddonSubscriptionItem(
        pk,
        sk,
        id=addon_sub_id,
        user_id=ctx.user.id,
        addon_id=addon.id,
        subscription_id=parent.id if parent else None,
        invoice_id=invoice_id,
        status="TRIALING" if trialing else "PENDING",
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    return item


def _capture_free(
    ctx: Context,
    invoice: InvoiceItem,
    purchases: list[TokenBundlePurchaseItem],
    subscription: SubscriptionItem | None,
    addon_subscriptions: list[AddonSubscriptionItem],
    created: list[Any],
    tx: Transaction,
    actor: Actor,
) -> dict[str, Any]:
    """A zero total is paid by nobody: captured in the checkout's own transaction (§5.1)."""
    subscriptions = {s.id: s for s in ctx.subscriptions}
    if subscription is not None:
        subscriptions[subscription.id] = subscription
    addons = {a.id: a for a in ctx.addon_subscriptions}
    addons.update({a.id: a for a in addon_subscriptions})
    activation = Activation(
        invoice=invoice,
        user=ctx.user,
        purchases={p.id: p for p in purchases},
        subscriptions=subscriptions,
        addon_subscriptions=addons,
        ledger=Ledger(ctx.user.id, ctx.balance, ctx.now, actor),
        ref=ctx.ref,
        now=ctx.now,
        actor=actor,
        places=Currencies.of(ctx.ref.currencies).places(invoice.currency),
        created={id(item) for item in created},
    )
    activation.capture(Payment("none", "zero-price"))
    for item in created:
        activation.changed.setdefault(id(item), item)
    activation.write(tx)
    return activation.activated


def _answer(
    ctx: Context,
    order: Order,
    invoice: InvoiceItem,
    subscription: SubscriptionItem | None,
    purchases: list[TokenBundlePurchaseItem],
    addon_subscriptions: list[AddonSubscriptionItem],
    zero: bool,
) -> dict[str, Any]:
    answer: dict[str, Any] = {"invoice": invoice_json.invoice(invoice, order.places, ctx.now)}
    if subscription is not None and order.plan is not None:
        plan = order.plan
        answer["subscription"] = {
            **subscription_json.subscription(subscription, ctx.now),
            "plan": {"id": plan.id, "name": plan.name, "slug": plan.slug},
        }
        answer["trial_applied"] = order.trial
    parents = {s.id: s for s in ctx.subscriptions}
    if subscription is not None:
        parents[subscription.id] = subscription
    answer["token_bundles"] = [invoice_json.purchase(p, order.places) for p in purchases]
    answer["add_ons"] = [
        subscription_json.addon_subscription(a, ctx.now, parents.get(a.subscription_id or ""))
        for a in addon_subscriptions
    ]
    answer["message"] = "Checkout complete. Free plan activated." if zero else "Checkout created. Awaiting payment."
    return answer
