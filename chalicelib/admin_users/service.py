"""Admin profile and user administration (contract admin.md §2, §3): create, list, read, change, suspend and
activate, roles, delete, add-ons and impersonation.

Each use case reads what it decides on, then writes one transaction through the repositories (users, tokens,
subscriptions, invoices) with its events in the outbox; a write that lost a race is decided again on what won.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from chalicelib.access.members import track
from chalicelib.admin_users import serializers
from chalicelib.auth.passwords import hash_password
from chalicelib.auth.sessions import open_impersonation_session
from chalicelib.catalog.repository import access_levels, reference
from chalicelib.core import clock
from chalicelib.core.config import get_settings
from chalicelib.core.errors import BadRequest, Conflict, Forbidden, NotFound
from chalicelib.core.ids import new_id
from chalicelib.core.paging import WHOLE_LIST_CAP, Page, PageRequest
from chalicelib.core.times import iso
from chalicelib.core.validation import parse_body
from chalicelib.events.catalog import (
    AddonCancelled,
    ImpersonationStarted,
    PasswordChanged,
    SubscriptionCancelled,
    UserActivated,
    UserDeleted,
    UserRegistered,
    UserSuspended,
    UserUpdated,
)
from chalicelib.events.envelope import Actor, Event, EventData
from chalicelib.events.outbox import record
from chalicelib.invoices import repository as invoices
from chalicelib.store.retry import retrying
from chalicelib.store.transactions import Transaction, TransactionCancelled
from chalicelib.subscriptions import machine
from chalicelib.subscriptions import repository as subscriptions
from chalicelib.subscriptions.events import addon_data, subscription_data
from chalicelib.subscriptions.machine import Move
from chalicelib.subscriptions.policy import LifecyclePolicy
from chalicelib.tokens import repository as tokens
from chalicelib.tokens.ledger import Ledger
from chalicelib.users import repository as users
from chalicelib.users import service as profile_service
from chalicelib.users.models import ADMIN_ROLES, DETAIL_FIELDS, UserDetailsItem, UserItem

if TYPE_CHECKING:
    from chalicelib.admin_users.schemas import (
        AdminProfileBody,
        CreateUserBody,
        RolesBody,
        UpdateUserBody,
        UserListQuery,
    )
    from chalicelib.auth.principal import Principal
    from chalicelib.subscriptions.models import AddonSubscriptionItem, SubscriptionItem

ATTEMPTS = 4
EMAIL_TAKEN = "User with this email already exists"
NOT_FOUND = "User not found"
SUPER_ONLY = "Only a super admin can assign the SUPER_ADMIN role"
CANCEL_REASON = "admin"
PER_TRANSACTION = 20  # holdings or invoices ended per transaction of a forced delete


def _actor(principal: Principal) -> Actor:
    return Actor("admin", principal.user_id)


def _conflict(exc: TransactionCancelled) -> bool:
    return exc.conflict


def _target(user_id: str) -> UserItem:
    user = users.find_user(user_id)
    if user is None or user.status == "DELETED":
        raise NotFound(NOT_FOUND)
    return user


def _may_assign(principal: Principal, role: str | None) -> None:
    if role == "SUPER_ADMIN" and principal.user.role != "SUPER_ADMIN":
        raise Forbidden(SUPER_ONLY)


# --- the admin's own profile (§2) --------------------------------------------------------------------------------


def admin_profile(principal: Principal) -> dict[str, Any]:
    return {"user": serializers.profile(principal.user, users.find_details(principal.user_id))}


def update_admin_profile(principal: Principal, request: AdminProfileBody) -> dict[str, Any]:
    profile_service.update_details(principal, request)
    user = users.find_user(principal.user_id) or principal.user
    return {"user": serializers.profile(user, users.find_details(user.id)), "message": "Profile updated"}


# --- reading users -----------------------------------------------------------------------------------------------


def _rows(found: list[UserItem]) -> list[dict[str, Any]]:
    """Admin user objects of a page: their details, balances and access levels in one BatchGetItem each, the
    plan of each one's primary subscription from its live holdings."""
    ids = [user.id for user in found]
    details = users.details_of(ids)
    balances = tokens.balances_of(ids)
    admin_ids = list(dict.fromkeys(level for user in found for level in user.access_level_ids))
    member_ids = list(dict.fromkeys(level for user in found for level in user.user_access_level_ids))
    admin_levels, member_levels = access_levels(admin_ids, member_ids)
    levels = {level.id: level for level in (*admin_levels, *member_levels)}
    ref, now = reference(), clock.now()
    rows = []
    for user in found:
        primary = _primary(subscriptions.live_holdings(user.id)[0], now)
        plan = ref.plan(primary.tarif_plan_id) if primary is not None else None
        rows.append(
            serializers.admin_user(
                user,
                details.get(user.id),
                balances.get(user.id, 0),
                plan.name if plan is not None else None,
                [levels[i] for i in user.access_level_ids if i in levels],
                [levels[i] for i in user.user_access_level_ids if i in levels],
            )
        )
    return rows


def _primary(held: list[SubscriptionItem], now: datetime) -> SubscriptionItem | None:
    valid = [s for s in held if machine.is_valid(s, now)]
    return max(valid, key=lambda s: s.created_at) if valid else None


def list_users(query: UserListQuery, request: PageRequest) -> Page[dict[str, Any]]:
    """Newest first from the list indexes, or in address order for an e-mail prefix `search`."""
    if query.search:
        page = users.email_search_page(query.search, request, query.status, query.role)
    else:
        page = users.users_page(request, query.status, query.role)
    return Page(_rows(page.items), page.total, page.offset, page.limit, page.next_key)


def _user_answer(user: UserItem) -> dict[str, Any]:
    return _rows([user])[0]


def admin_user(user: UserItem) -> dict[str, Any]:
    """The admin user object (admin.md §3.0) of `user`, for the answers of other admin areas (§16)."""
    return _user_answer(user)


def get_user(user_id: str) -> dict[str, Any]:
    user = _target(user_id)
    body = _user_answer(user)
    held, _ = subscriptions.holdings_of(user.id)
    now, ref = clock.now(), reference()
    shown = _primary(held, now) or (max(held, key=lambda s: s.created_at) if held else None)
    plan = ref.plan(shown.tarif_plan_id) if shown is not None else None
    body["subscription"] = {
        "plan": plan.name if plan is not None else None,
        "status": shown.status if shown is not None else None,
        "expires_at": iso(shown.expires_at) if shown is not None else None,
    }
    body["stats"] = _stats(user, ref)
    return {"user": body}


def _stats(user: UserItem, ref: Any) -> dict[str, Any]:
    from chalicelib.catalog.pricing import Currencies

    currencies = Currencies.of(ref.currencies)
    default = currencies.default
    paid = Decimal(0)
    for invoice in invoices.invoices_of(user.id):
        if invoice.status in ("PAID", "REFUNDED"):
            net = Decimal(invoice.total_amount) - Decimal(invoice.amount_refunded or 0)
            paid += currencies.convert(net, invoice.currency, default)
    counts = invoices.counts_of(user.id)
    return serializers.stats(paid, int(default.decimal_places), int(counts.total) if counts else 0, user)


# --- creating and changing users ---------------------------------------------------------------------------------


def create_user(principal: Principal, request: CreateUserBody) -> dict[str, Any]:
    from chalicelib.admin_users.schemas import DetailsFields

    role = request.role or "USER"
    _may_assign(principal, role)
    fields = parse_body(DetailsFields, request.details) if request.details else None
    values = {name: getattr(fields, name) for name in DETAIL_FIELDS} if fields is not None else None
    user = add_account(request.email, request.password, role, request.status or "ACTIVE", values, _actor(principal))
    return _user_answer(user)


def add_account(
    email: str, password: str, role: str, status: str, details: dict[str, Any] | None, actor: Actor
) -> UserItem:
    """A new account made by an admin (or the CLI): the user with a `USER`'s default access level, its e-mail
    guard, its details and `user.registered` `{source: "admin"}` in one transaction; 409 when the address is
    taken (whatever the early check saw)."""
    from chalicelib.auth.access_levels import default_user_level

    if users.find_user_id_by_email(email):
        raise Conflict(EMAIL_TAKEN)
    password_hash = hash_password(password, get_settings().bcrypt_rounds)
    level = default_user_level() if role == "USER" else None
    now = clock.now()
    user = UserItem.new(
        new_id(),
        email,
        password_hash,
        now,
        role=role,
        status=status,
        user_access_level_ids=[level.id] if level is not None else [],
    )
    tx = Transaction()
    if details:
        stored = users.new_details(user.id, now)
        for name, value in details.items():
            setattr(stored, name, value)
        user.display_name = stored.full_name()
        users.add_details_if_absent(tx, stored)
    users.add_user(tx, user)
    record(tx, Event(UserRegistered(user_id=user.id, email=user.email, source="admin"), actor))
    try:
        tx.commit()
    except TransactionCancelled as exc:
        if "email" in exc.failed:
            raise Conflict(EMAIL_TAKEN) from exc
        raise
    return user


def set_password(user_id: str, password: str, actor: Actor) -> None:
    """A password an admin (or the CLI) sets: every session of the user ends, `user.password_changed` `admin`."""
    password_hash = hash_password(password, get_settings().bcrypt_rounds)
    user = _target(user_id)
    now = clock.now()
    tx = Transaction()
    users.set_password(tx, user, password_hash, now)
    record(tx, Event(PasswordChanged(user_id=user.id, via="admin"), actor, occurred_at=now))
    tx.commit()


@dataclass
class _Change:
    """What an update decided, written in one transaction."""

    user: UserItem
    was: tuple[str, str]
    details: UserDetailsItem | None
    changed: list[str]
    events: list[EventData]
    ledger: Ledger | None = None


def update_user(principal: Principal, user_id: str, request: UpdateUserBody) -> dict[str, Any]:
    given = request.model_fields_set
    status = request.status
    if "is_active" in given and request.is_active is not None and status is None:
        status = "ACTIVE" if request.is_active else "SUSPENDED"
    if user_id == principal.user_id and (status is not None or request.role is not None):
        raise BadRequest("You cannot change your own role or status")
    _may_assign(principal, request.role)
    password_hash = hash_password(request.password, get_settings().bcrypt_rounds) if request.password else None

    def attempt() -> dict[str, Any]:
        user = _target(user_id)
        if user.role == "SUPER_ADMIN" and principal.user.role != "SUPER_ADMIN" and (status or request.role):
            raise Forbidden(SUPER_ONLY)
        now = clock.now()
        change = _Change(user, (user.status, user.role), users.find_details(user.id), [], [])
        _apply_standing(change, status, request.role, now)
        if password_hash is not None:
            user.password_hash = password_hash
            users.end_sessions(user, now)
            change.changed.append("password")
            change.events.append(PasswordChanged(user_id=user.id, via="admin"))
        _apply_details(change, request, given, now)
        if request.token_balance is not None:
            change.ledger = _adjustment(user.id, request.token_balance, principal, now)
            if change.ledger is not None:
                change.changed.append("token_balance")
        _write(change, principal, now)
        return {"user": _user_answer(change.user)}

    return retrying(attempt, tries=ATTEMPTS, retry_on=_conflict)


def _apply_standing(change: _Change, status: str | None, role: str | None, now: datetime) -> None:
    user = change.user
    if role is not None and role != user.role:
        user.role = role
        change.changed.append("role")
    if status is not None and status != user.status:
        user.status = status
        change.changed.append("status")
        if status == "SUSPENDED":
            users.end_sessions(user, now)
            change.events.append(UserSuspended(user_id=user.id, reason=None))
        elif status == "ACTIVE":
            change.events.append(UserActivated(user_id=user.id))


def _apply_details(change: _Change, request: UpdateUserBody, given: set[str], now: datetime) -> None:
    names = [name for name in DETAIL_FIELDS if name in given]
    first_or_last = "first_name" in given or "last_name" in given
    split: dict[str, str | None] = {}
    if "name" in given and not first_or_last:
        first, _, last = (request.name or "").strip().partition(" ")
        split = {"first_name": first or None, "last_name": last.strip() or None}
    if not names and not split and "balance" not in given:
        return
    details = change.details or users.new_details(change.user.id, now)
    for name in names:
        if getattr(details, name) != getattr(request, name):
            setattr(details, name, getattr(request, name))
            change.changed.append(name)
    for name, value in split.items():
        if getattr(details, name) != value:
            setattr(details, name, value)
            change.changed.append(name)
    if request.balance is not None and Decimal(details.balance or 0) != request.balance:
        details.balance = request.balance
        change.changed.append("balance")
    details.updated_at = now
    change.details = details
    change.user.display_name = details.full_name()


def _adjustment(user_id: str, wanted: int, principal: Principal, now: datetime) -> Ledger | None:
    """The balance becomes `wanted` through one `ADJUSTMENT` entry for the difference (none when unchanged)."""
    stored = tokens.balance_of(user_id)
    ledger = Ledger(user_id, stored, now, _actor(principal))
    difference = wanted - ledger.balance
    if difference > 0:
        ledger.credit(difference, "ADJUSTMENT", None, "Admin adjustment")
    elif difference < 0:
        ledger.debit(-difference, "ADJUSTMENT", None, "Admin adjustment")
    else:
        return None
    return ledger


def _write(change: _Change, principal: Principal, now: datetime) -> None:
    tx = Transaction()
    actor = _actor(principal)
    users.save_user(tx, change.user, change.was, now)
    if change.details is not None and any(n in change.changed for n in (*DETAIL_FIELDS, "balance")):
        users.save_details(tx, change.details)
    if change.ledger is not None:
        change.ledger.write(tx)
    for data in change.events:
        record(tx, Event(data, actor, occurred_at=now))
    fields = [name for name in change.changed if name != "password"]
    if fields:
        record(tx, Event(UserUpdated(user_id=change.user.id, changed_fields=fields), actor, occurred_at=now))
    tx.commit()


def set_status(principal: Principal, user_id: str, status: str, reason: str | None = None) -> dict[str, Any]:
    """Suspend (every session ends) or activate a user (§3.5)."""
    suspending = status == "SUSPENDED"
    if user_id == principal.user_id:
        raise BadRequest("You cannot suspend yourself")

    def attempt() -> dict[str, Any]:
        user = _target(user_id)
        now = clock.now()
        was = (user.status, user.role)
        if user.status != status:
            user.status = status
            tx = Transaction()
            if suspending:
                users.end_sessions(user, now)
                data: EventData = UserSuspended(user_id=user.id, reason=reason)
            else:
                data = UserActivated(user_id=user.id)
            users.save_user(tx, user, was, now)
            record(tx, Event(data, _actor(principal), occurred_at=now))
            tx.commit()
        message = "User suspended successfully" if suspending else "User activated successfully"
        return {"user": _user_answer(user), "message": message}

    return retrying(attempt, tries=ATTEMPTS, retry_on=_conflict)


def set_roles(principal: Principal, user_id: str, request: RolesBody) -> dict[str, Any]:
    """§3.6: enum entries set the role (the first of them), the others are admin access level slugs that
    replace the user's levels."""
    from chalicelib.users.models import USER_ROLES

    by_slug = {level.slug: level for level in reference().admin_access_levels}
    roles: list[str] = []
    slugs: list[str] = []
    for entry in request.roles:
        if entry.strip().upper() in USER_ROLES:
            roles.append(entry.strip().upper())
        elif entry in by_slug:
            slugs.append(entry)
        else:
            raise BadRequest(f"Invalid role: {entry}")
    role = roles[0] if roles else None
    _may_assign(principal, role)

    def attempt() -> dict[str, Any]:
        user = _target(user_id)
        now = clock.now()
        was = (user.status, user.role)
        changed = []
        if role is not None and role != user.role:
            user.role = role
            changed.append("role")
        level_ids = [by_slug[slug].id for slug in dict.fromkeys(slugs)]
        held = list(user.access_level_ids)
        if (slugs or roles) and held != level_ids:
            user.access_level_ids = level_ids
            changed.append("access_levels")
        if changed:
            tx = Transaction()
            users.save_user(tx, user, was, now)
            track(tx, user.id, held, user.access_level_ids)  # who holds each level (admin.md §16 user_count)
            event = Event(UserUpdated(user_id=user.id, changed_fields=changed), _actor(principal), occurred_at=now)
            record(tx, event)
            tx.commit()
        return {"user": _user_answer(user), "message": "Roles updated"}

    return retrying(attempt, tries=ATTEMPTS, retry_on=_conflict)


# --- deleting users ----------------------------------------------------------------------------------------------


def _history(user: UserItem) -> tuple[int, int]:
    counts = invoices.counts_of(user.id)
    held, _ = subscriptions.holdings_of(user.id)
    return (int(counts.total) if counts else 0), len(held)


def deletion_info(user_id: str) -> dict[str, Any]:
    user = _target(user_id)
    invoice_count, subscription_count = _history(user)
    return {
        "user_id": user.id,
        "email": user.email,
        "has_cascade_dependencies": bool(invoice_count or subscription_count),
        "invoice_count": invoice_count,
        "subscription_count": subscription_count,
    }


def delete_user(principal: Principal, user_id: str, force: bool) -> dict[str, Any]:
    """§3.8: a user without history is removed; one with history only with `force`, then erased — status
    `DELETED`, personal data gone, sessions ended, holdings cancelled and unpaid invoices voided."""
    if user_id == principal.user_id:
        raise BadRequest("You cannot delete yourself")
    user = _target(user_id)
    if user.role == "SUPER_ADMIN" and principal.user.role != "SUPER_ADMIN":
        raise Forbidden("Only a super admin can delete a super admin")
    invoice_count, subscription_count = _history(user)
    actor = _actor(principal)
    if invoice_count or subscription_count:
        if not force:
            raise Conflict(
                f"Cannot delete user with {invoice_count} invoice(s) and {subscription_count} subscription(s). "
                "User has transaction history.",
                has_dependencies=True,
                invoice_count=invoice_count,
                subscription_count=subscription_count,
            )
        _end_holdings(user.id, actor)
        _void_unpaid(user.id, actor)

    def erase() -> None:
        current = _target(user_id)
        now = clock.now()
        tx = Transaction()
        was = (current.status, current.role)
        details = users.find_details(current.id)
        if invoice_count or subscription_count:
            users.erase_user(tx, current, details, was, now)
        else:
            users.remove_user(tx, current, details, was)
        record(tx, Event(UserDeleted(user_id=current.id), actor, occurred_at=now))
        tx.commit()

    retrying(erase, tries=ATTEMPTS, retry_on=_conflict)
    return {"message": "User deleted successfully"}


def _chunks(items: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(items), PER_TRANSACTION):
        yield items[start : start + PER_TRANSACTION]


def _end_holdings(user_id: str, actor: Actor) -> None:
    """Every live subscription and add-on of the user `CANCELLED` now (`cancel_reason: "admin"`), through the
    state machine, a few per transaction with their events."""

    def attempt() -> None:
        held, addons = subscriptions.holdings_of(user_id)
        everything: list[SubscriptionItem | AddonSubscriptionItem] = [*held, *addons]
        live = [item for item in everything if machine.allowed(item, Move.CANCEL)]
        ref = reference()
        policy = LifecyclePolicy.of(ref)
        now = clock.now()
        for part in _chunks(live):
            tx = Transaction()
            for item in part:
                machine.move(item, Move.CANCEL, now)
                item.cancel_reason = CANCEL_REASON
                _cancelled(tx, item, ref, policy, actor, now)
            tx.commit()

    retrying(attempt, tries=ATTEMPTS, retry_on=_conflict)


def _cancelled(tx: Transaction, item: Any, ref: Any, policy: LifecyclePolicy, actor: Actor, now: datetime) -> None:
    from chalicelib.subscriptions.models import SubscriptionItem

    if isinstance(item, SubscriptionItem):
        item.renewal_invoice_id = None
        subscriptions.update_subscription(tx, item, policy)
        plan = ref.plan(item.tarif_plan_id)
        if plan is not None:
            data = SubscriptionCancelled(**subscription_data(item, plan), reason=CANCEL_REASON)
            tx.events.append(Event(data, actor, occurred_at=now))
        return
    subscriptions.update_addon_subscription(tx, item, policy)
    addon = ref.addon(item.addon_id)
    if addon is not None:
        tx.events.append(Event(AddonCancelled(**addon_data(item, addon), reason=CANCEL_REASON), actor, occurred_at=now))


def _void_unpaid(user_id: str, actor: Actor) -> None:
    def attempt() -> None:
        listed = invoices.invoices_page(user_id, PageRequest(WHOLE_LIST_CAP), "PENDING").items
        now = clock.now()
        for part in _chunks(listed):
            tx = Transaction()
            for stored in (invoices.invoice_records(invoice.id) for invoice in part):
                if stored is not None and stored.invoice.status == "PENDING":
                    invoices.void(tx, stored.invoice, "user_deleted", actor, now)
            tx.commit()

    retrying(attempt, tries=ATTEMPTS, retry_on=_conflict)


# --- add-ons and impersonation -----------------------------------------------------------------------------------


def user_addons(user_id: str) -> dict[str, Any]:
    user = _target(user_id)
    _, addons = subscriptions.holdings_of(user.id)
    ref = reference()
    billed: dict[str, list[Any]] = {}
    wanted = {a.id for a in addons}
    for invoice in invoices.invoices_of(user.id):
        for line in invoice.lines or []:
            if line.item_id in wanted:
                billed.setdefault(str(line.item_id), []).append(invoice)
    rows = []
    for addon_sub in sorted(addons, key=lambda a: a.created_at, reverse=True):
        addon = ref.addon(addon_sub.addon_id)
        history = sorted(billed.get(addon_sub.id, []), key=lambda i: i.invoiced_at)
        rows.append(serializers.user_addon(addon_sub, addon, history, ref))
    return {"addon_subscriptions": rows}


def impersonate(principal: Principal, user_id: str) -> dict[str, Any]:
    """auth.md §1.4: a 600-second access token for the target, without a refresh token, in a session of its own
    that names the admin; `admin.impersonation_started` in the same transaction."""
    if user_id == principal.user_id:
        raise BadRequest("You cannot impersonate yourself")
    user = _target(user_id)
    if user.role in ADMIN_ROLES:
        raise Forbidden("Cannot impersonate an administrator")
    if user.status != "ACTIVE":
        raise BadRequest("User account is not active")
    from chalicelib.auth.access_levels import login_user

    now = clock.now()
    tx = Transaction()
    issued = open_impersonation_session(tx, user, principal.user_id, now)
    started = ImpersonationStarted(
        admin_id=principal.user_id, user_id=user.id, expires_at=iso(issued.session.expires_at) or ""
    )
    record(tx, Event(started, _actor(principal), occurred_at=now))
    tx.commit()
    return {
        "token": issued.access.token,
        "expires_in": issued.access.expires_in,
        "token_type": "Bearer",
        "user": login_user(user),
        "impersonated_by": {"id": principal.user_id, "email": principal.user.email},
    }
