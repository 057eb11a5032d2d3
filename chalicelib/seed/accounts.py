"""Seeds users (seed-data.md §2) and the purchases of seeded users (§11)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.auth.access_levels import DEFAULT_USER_ACCESS_LEVEL
from chalicelib.auth.passwords import hash_password
from chalicelib.catalog import pricing, repository
from chalicelib.catalog.models import PlanItem, TaxItem
from chalicelib.core.config import get_settings
from chalicelib.core.ids import seed_id
from chalicelib.core.times import iso
from chalicelib.events.envelope import Actor
from chalicelib.invoices.builder import Line, build_invoice
from chalicelib.invoices.repository import add_invoice
from chalicelib.seed import data
from chalicelib.store.numbering import commit_numbered, take_number
from chalicelib.store.reads import batch_get
from chalicelib.store.transactions import Transaction, TransactionCancelled
from chalicelib.subscriptions.models import SubscriptionItem
from chalicelib.subscriptions.periods import add_period
from chalicelib.subscriptions.policy import LifecyclePolicy
from chalicelib.subscriptions.repository import add_subscription, subscription_of
from chalicelib.tokens.ledger import Ledger
from chalicelib.users.models import EmailGuardItem, UserDetailsItem, UserItem, details_key, email_key
from chalicelib.users.repository import add_details_if_absent, add_user, find_details


def users_for_stage(stage: str) -> list[dict[str, Any]]:
    if stage == "prod":
        settings = get_settings()
        if not settings.initial_admin_email or not settings.initial_admin_password:
            raise RuntimeError("The prod seed needs INITIAL_ADMIN_EMAIL and INITIAL_ADMIN_PASSWORD")
        return [
            {
                "email": settings.initial_admin_email.strip().lower(),
                "password": settings.initial_admin_password.get_secret_value(),
                "role": "SUPER_ADMIN",
                "status": "ACTIVE",
            }
        ]
    return [user for user in data.USERS if stage == "local" or not user.get("local_only")]


def seed_users(now: datetime, stage: str) -> int:
    users = users_for_stage(stage)
    guards = batch_get([(EmailGuardItem, *email_key(user["email"])) for user in users])
    ref = repository.reference()
    admin_levels = {level.slug: level.id for level in ref.admin_access_levels}
    member_levels = {level.slug: level.id for level in ref.user_access_levels}
    rounds = get_settings().bcrypt_rounds
    created = 0
    for user, guard in zip(users, guards, strict=True):
        if guard is not None:
            continue
        user_id = seed_id("user", user["email"])
        item = UserItem.new(
            user_id,
            user["email"],
            hash_password(user["password"], rounds),
            now,
            role=user["role"],
            status=user["status"],
            has_used_trial=user.get("has_used_trial", False),
            access_level_ids=[admin_levels[s] for s in user.get("access_levels", []) if s in admin_levels],
            user_access_level_ids=[member_levels[s] for s in _user_access_levels(user) if s in member_levels],
        )
        tx = Transaction()
        if user.get("details"):
            details = _details(user_id, user["details"], now)
            item.display_name = details.full_name()
            add_details_if_absent(tx, details)
        add_user(tx, item)
        try:
            tx.commit()
            created += 1
        except TransactionCancelled:
            continue  # seeded concurrently by another run
    return created


def _user_access_levels(user: dict[str, Any]) -> list[str]:
    """Seeded customers hold what a registration would have granted them unless the data names their levels."""
    default = [DEFAULT_USER_ACCESS_LEVEL] if user["role"] == "USER" else []
    return list(user.get("user_access_levels", default))


def _details(user_id: str, fields: dict[str, Any], now: datetime) -> UserDetailsItem:
    pk, sk = details_key(user_id)
    return UserDetailsItem(
        pk=pk,
        sk=sk,
        id=seed_id("details", user_id),
        user_id=user_id,
        created_at=now,
        updated_at=now,
        **fields,
    )


@dataclass(frozen=True)
class SeededPurchase:
    email: str
    plan_slug: str
    payment_method: str
    payment_ref: str
    saved_method: bool = False


PURCHASES = (
    SeededPurchase("test@example.com", "test-data-basic-plan", "invoice", "SEED"),
    SeededPurchase("user.free@demo.local", "free", "none", "zero-price"),
    SeededPurchase("user.pro@demo.local", "pro", "sandbox", "sandbox_seed_pro", saved_method=True),
)


def seed_purchases(now: datetime) -> int:
    """§11: one ACTIVE subscription and its PAID first invoice per user, numbered in this order."""
    ref = repository.reference()
    plans = {plan.slug: plan for plan in ref.plans}
    currencies = pricing.Currencies.of(ref.currencies)
    taxes, classes = ref.taxes, ref.tax_classes
    prefix = str(ref.settings["invoice_prefix"])
    created = 0
    for purchase in PURCHASES:
        user_id = seed_id("user", purchase.email)
        if subscription_of(user_id, seed_id("subscription", purchase.email)) is not None:
            continue
        details = find_details(user_id)
        tax = pricing.applicable_tax(details.country if details else None, taxes, classes)
        plan = plans[purchase.plan_slug]
        places = currencies.places(plan.currency)
        add = functools.partial(
            _add_purchase, purchase=purchase, plan=plan, places=places, tax=tax, details=details, prefix=prefix, now=now
        )
        commit_numbered(add)
        created += 1
    return created


def _add_purchase(
    tx: Transaction,
    purchase: SeededPurchase,
    plan: PlanItem,
    places: int,
    tax: TaxItem | None,
    details: UserDetailsItem | None,
    prefix: str,
    now: datetime,
) -> None:
    user_id = seed_id("user", purchase.email)
    subscription_id = seed_id("subscription", purchase.email)
    invoice_id = seed_id("invoice", purchase.email)
    expires = add_period(now, plan.billing_period, now.day)
    line = Line(
        line_id=seed_id("line", f"{purchase.email}:plan"),
        item_type="SUBSCRIPTION",
        description=plan.name,
        unit_price=plan.price,
        item_id=subscription_id,
        catalog_item_id=plan.id,
        metadata={
            "billing_reason": "SUBSCRIPTION_CREATE",
            "plan_id": plan.id,
            "plan_slug": plan.slug,
            "billing_period": plan.billing_period,
            "period_start": iso(now),
            "period_end": iso(expires),
        },
    )
    invoice = build_invoice(
        invoice_id=invoice_id,
        user_id=user_id,
        number=take_number(tx, prefix, now.year, invoice_id),
        billing_reason="SUBSCRIPTION_CREATE",
        currency=plan.currency,
        places=places,
        lines=[line],
        tax=tax,
        details=details,
        now=now,
        status="PAID",
        tarif_plan_id=plan.id,
        subscription_id=subscription_id,
        payment_method=purchase.payment_method,
        payment_ref=purchase.payment_ref,
        due_date=now,
        paid_at=now,
        capture_count=1,
    )
    add_invoice(tx, invoice)
    subscription = SubscriptionItem(
        *SubscriptionItem.key(user_id, subscription_id),
        id=subscription_id,
        user_id=user_id,
        tarif_plan_id=plan.id,
        status="ACTIVE",
        started_at=now,
        current_period_start=now,
        expires_at=expires,
        anchor_day=now.day,
        currency=plan.currency,
        payment_method_code=purchase.payment_method if purchase.payment_method != "none" else None,
        saved_payment_method={"provider": "sandbox", "reference": "pm_sandbox_seed", "label": "Sandbox test card"}
        if purchase.saved_method
        else None,
        created_at=now,
        updated_at=now,
    )
    add_subscription(tx, subscription, LifecyclePolicy())  # the seeded plugin config holds the defaults
    tokens = int((plan.features or {}).get("default_tokens", 0))
    if tokens and purchase.payment_method != "none":
        _credit(tx, user_id, tokens, subscription_id, f"Plan tokens: {plan.name}", now)


def _credit(tx: Transaction, user_id: str, amount: int, reference_id: str, description: str, now: datetime) -> None:
    ledger = Ledger(user_id, None, now, Actor.system("seed"))
    ledger.credit(amount, "SUBSCRIPTION", reference_id, description)
    ledger.write(tx)
