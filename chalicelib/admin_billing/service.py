"""The admin's billing use cases (contract admin.md §8–§9): each one reads, calls the domain that owns the change
(the refund pipeline, the subscriptions' state machine, the invoices' repository) and shapes the admin's answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from chalicelib.admin_billing import repository
from chalicelib.catalog.pricing import Currencies
from chalicelib.catalog.repository import Reference, reference
from chalicelib.core import clock
from chalicelib.core.errors import BadRequest, NotFound
from chalicelib.core.ids import new_id
from chalicelib.core.money import format_money
from chalicelib.core.paging import Page, PageRequest
from chalicelib.core.times import iso, sortable
from chalicelib.events.catalog import (
    InvoiceCreated,
    InvoicePaid,
    InvoiceResent,
    SubscriptionActivated,
    SubscriptionExtended,
)
from chalicelib.events.envelope import Actor, Event
from chalicelib.invoices import repository as invoice_store
from chalicelib.invoices import serializers as invoice_json
from chalicelib.invoices.repository import InvoiceRecords
from chalicelib.invoices.service import Document
from chalicelib.invoices.statuses import INVOICE_STATUSES
from chalicelib.payments.activation import plan_tokens
from chalicelib.payments.capture import lost_race
from chalicelib.payments.voiding import void_with_what_it_bills
from chalicelib.refunds import service as refunds
from chalicelib.store.numbering import owner_of
from chalicelib.store.retry import retrying
from chalicelib.store.transactions import Transaction
from chalicelib.subscriptions import machine
from chalicelib.subscriptions import renewal as renewals
from chalicelib.subscriptions import repository as subscription_store
from chalicelib.subscriptions import serializers as subscription_json
from chalicelib.subscriptions.events import subscription_data
from chalicelib.subscriptions.machine import Move
from chalicelib.subscriptions.models import SubscriptionItem
from chalicelib.subscriptions.periods import add_period
from chalicelib.subscriptions.policy import LifecyclePolicy
from chalicelib.tokens.ledger import Ledger
from chalicelib.tokens.repository import balance_of as token_balance
from chalicelib.users.models import UserItem
from chalicelib.users.repository import find_details, find_user, find_user_by_email

if TYPE_CHECKING:
    from chalicelib.admin_billing.schemas import (
        AdminCancelBody,
        AdminInvoicesQuery,
        AdminSubscriptionsQuery,
        ExtendBody,
        PlanBody,
        RefundBody,
        ResendBody,
    )
    from chalicelib.auth.principal import Principal
    from chalicelib.core.idempotency import AnswerRecorder
    from chalicelib.invoices.models import InvoiceItem

SUBSCRIPTION_NOT_FOUND = "Subscription not found"
INVOICE_NOT_FOUND = "Invoice not found"
VOIDABLE = frozenset({"PENDING", "FAILED"})
DELETABLE = frozenset({"PENDING", "CANCELLED", "FAILED"})
RESENDS_PER_HOUR = 10
RESEND_ACTION = "invoice-resend"


def admin_invoice(invoice: InvoiceItem, places: int, owner: UserItem | None, notes: list[Any]) -> dict[str, Any]:
    """An invoice as the admin sees it (admin.md §9): the user's invoice with its owner's e-mail."""
    return {**invoice_json.invoice(invoice, places, clock.now(), notes), "user_email": owner.email if owner else None}


def admin_subscription(sub: SubscriptionItem, ref: Reference, owner: UserItem | None) -> dict[str, Any]:
    """A subscription as the admin sees it (admin.md §8 list item)."""
    plan = ref.plan(sub.tarif_plan_id)
    return {
        **subscription_json.with_plan(sub, ref, clock.now()),
        "user_email": owner.email if owner else None,
        "user_name": owner.name if owner else None,
        "plan_id": sub.tarif_plan_id,
        "plan_name": plan.name if plan else None,
        "current_period_end": iso(sub.expires_at),
        "canceled_at": iso(sub.cancelled_at),
    }


def _refund_answer(result: refunds.RefundResult) -> dict[str, Any]:
    return {
        "invoice": admin_invoice(result.invoice, result.places, result.user, result.credit_notes),
        "credit_note": invoice_json.credit_note(result.credit_note, result.places),
    }


def _recording(recorder: AnswerRecorder | None, answer: Any) -> refunds.Extra | None:
    if recorder is None:
        return None

    def record(tx: Transaction, result: refunds.RefundResult) -> None:
        recorder.record(tx, answer(result))

    return record


def refund_invoice(
    admin: Principal, invoice_id: str, body: RefundBody, recorder: AnswerRecorder | None = None
) -> dict[str, Any]:
    """§9.6: the refund pipeline on one invoice, in full or in part."""

    def answer(result: refunds.RefundResult) -> dict[str, Any]:
        message = "Invoice refunded" if result.full else "Invoice partially refunded"
        return {**_refund_answer(result), "message": message}

    result = refunds.refund_invoice(
        invoice_id,
        body.amount,
        reason=body.reason,
        refund_reference=body.refund_reference,
        actor=Actor("admin", admin.user_id),
        extra=_recording(recorder, answer),
    )
    return answer(result)


def refund_subscription(
    admin: Principal, subscription_id: str, body: RefundBody, recorder: AnswerRecorder | None = None
) -> dict[str, Any]:
    """§8.8: the refund pipeline on the subscription's most recent PAID invoice; a full refund cancels it."""
    sub = repository.find_subscription(subscription_id)
    if sub is None:
        raise NotFound(SUBSCRIPTION_NOT_FOUND)
    invoice = repository.latest_paid_invoice(sub)
    if invoice is None:
        raise BadRequest("No paid invoice to refund")

    def answer(result: refunds.RefundResult) -> dict[str, Any]:
        current = next((held for held in result.subscriptions if held.id == subscription_id), sub)
        return {
            "subscription": admin_subscription(current, result.ref, result.user),
            **_refund_answer(result),
            "message": f"Refund processed: {body.reason}",
        }

    result = refunds.refund_invoice(
        invoice.id,
        body.amount,
        reason=body.reason,
        refund_reference=body.refund_reference,
        actor=Actor("admin", admin.user_id),
        extra=_recording(recorder, answer),
    )
    return answer(result)


# --- invoices (admin.md §9) ------------------------------------------------------------------------------------


def _invoice_records(invoice_id: str) -> InvoiceRecords:
    records = invoice_store.invoice_records(invoice_id)
    if records is None:
        raise NotFound(INVOICE_NOT_FOUND)
    return records


def _places(ref: Reference, currency: str) -> int:
    return Currencies.of(ref.currencies).places(currency)


def list_invoices(query: AdminInvoicesQuery, page: PageRequest) -> Page[dict[str, Any]]:
    """§9.1: Queries of the status partitions of GSI3 (one, or all six merged), or of the user's index, with the
    date range as key condition; the total from maintained counters. `search` names one invoice by its number
    (its number guard) or one user by e-mail (the e-mail guard)."""
    user_id = query.user_id
    statuses = (query.status,) if query.status else INVOICE_STATUSES
    ref = reference()
    if query.search:
        term = query.search.strip()
        if "@" in term:
            owner = find_user_by_email(term)
            if owner is None or (user_id is not None and owner.id != user_id):
                return Page([], 0, page.offset, page.limit)
            user_id = owner.id
        else:
            return _one_invoice(owner_of(term.upper()), query, statuses, page, ref)
    since = until = None
    if query.date_from:
        since = sortable(datetime.fromisoformat(query.date_from).replace(tzinfo=UTC))
    if query.date_to:
        until = sortable(datetime.fromisoformat(query.date_to).replace(tzinfo=UTC) + timedelta(days=1))
    flt = invoice_store.InvoiceFilter(statuses, user_id, since, until, query.date_from, query.date_to)
    found = invoice_store.admin_invoices_page(flt, page)
    owners = _owners({invoice.user_id for invoice in found.items})
    return found.map(
        lambda invoice: admin_invoice(invoice, _places(ref, invoice.currency), owners.get(invoice.user_id), [])
    )


def _one_invoice(
    invoice_id: str | None, query: AdminInvoicesQuery, statuses: tuple[str, ...], page: PageRequest, ref: Reference
) -> Page[dict[str, Any]]:
    records = invoice_store.invoice_records(invoice_id) if invoice_id else None
    if records is None:
        return Page([], 0, page.offset, page.limit)
    invoice = records.invoice
    day = invoice.invoiced_at.date().isoformat()
    if (
        invoice.status not in statuses
        or (query.user_id is not None and invoice.user_id != query.user_id)
        or (query.date_from is not None and day < query.date_from)
        or (query.date_to is not None and day > query.date_to)
    ):
        return Page([], 0, page.offset, page.limit)
    shown = admin_invoice(invoice, _places(ref, invoice.currency), find_user(invoice.user_id), [])
    return Page([shown] if page.offset == 0 else [], 1, page.offset, page.limit)


def _owners(user_ids: set[str]) -> dict[str, UserItem]:
    from chalicelib.store.reads import batch_get
    from chalicelib.users.models import user_key

    found = batch_get([(UserItem, *user_key(user_id)) for user_id in sorted(user_ids)])
    return {user.id: user for user in found if isinstance(user, UserItem)}


def get_invoice(invoice_id: str) -> dict[str, Any]:
    """§9.2: the invoice with its owner, plan and subscription."""
    records = _invoice_records(invoice_id)
    invoice = records.invoice
    ref = reference()
    owner = find_user(invoice.user_id)
    plan = ref.plan(invoice.tarif_plan_id) if invoice.tarif_plan_id else None
    sub = (
        subscription_store.subscription_of(invoice.user_id, invoice.subscription_id)
        if invoice.subscription_id
        else None
    )
    places = _places(ref, invoice.currency)
    plan_places = _places(ref, plan.currency) if plan else places
    return {
        "invoice": {
            **admin_invoice(invoice, places, owner, records.credit_notes),
            "user_name": owner.name if owner else None,
            "plan_name": plan.name if plan else None,
            "plan_description": plan.description if plan else None,
            "plan_billing_period": plan.billing_period if plan else None,
            "plan_price": format_money(plan.price, plan_places) if plan else None,
            "subscription_status": sub.status if sub else None,
            "subscription_start_date": iso(sub.started_at) if sub else None,
            "subscription_end_date": iso(sub.expires_at) if sub else None,
            "subscription_is_trial": sub.status == "TRIALING" if sub else None,
            "subscription_trial_end": iso(sub.trial_end_at) if sub else None,
            "payment_attempts": int(invoice.payment_attempts or 0),
            "last_payment_error": invoice.last_payment_error,
            "provider_session_id": invoice.provider_session_id,
        }
    }


def _void_with_what_it_bills(
    tx: Transaction, records: InvoiceRecords, admin: Principal, *, released: bool = False
) -> None:
    """§9.5 / §9.10: the invoice CANCELLED with the PENDING things it bills, by the admin."""
    void_with_what_it_bills(tx, records, Actor("admin", admin.user_id), "admin", released=released)


def void_invoice(admin: Principal, invoice_id: str) -> dict[str, Any]:
    """§9.5: PENDING, FAILED or AUTHORIZED → CANCELLED, with the PENDING things it bills; an authorization is let
    go of at its provider first, so no money stays held for a cancelled invoice."""
    from chalicelib.payments.providers import provider

    first = _invoice_records(invoice_id).invoice
    if first.status == "AUTHORIZED":
        provider(first.payment_method or "").release(first)

    def attempt() -> dict[str, Any]:
        records = _invoice_records(invoice_id)
        invoice = records.invoice
        if invoice.status not in VOIDABLE and not (first.status == invoice.status == "AUTHORIZED"):
            raise BadRequest(f"Cannot void: invoice status is {invoice.status}")
        tx = Transaction()
        _void_with_what_it_bills(tx, records, admin)
        tx.commit()
        places = _places(reference(), invoice.currency)
        return {
            "invoice": admin_invoice(invoice, places, find_user(invoice.user_id), records.credit_notes),
            "message": "Invoice voided",
        }

    return retrying(attempt, retry_on=lost_race)


def delete_invoice(admin: Principal, invoice_id: str) -> dict[str, Any]:
    """§9.7: a soft delete of an unpaid invoice (a PENDING one is voided first, in the same transaction)."""

    def attempt() -> dict[str, Any]:
        records = _invoice_records(invoice_id)
        invoice = records.invoice
        if invoice.status not in DELETABLE:
            raise BadRequest(f"Cannot delete: invoice status is {invoice.status}")
        tx = Transaction()
        if invoice.status == "PENDING":
            invoice.deleted_at = clock.now()  # voided and deleted by one write of the invoice
            _void_with_what_it_bills(tx, records, admin)
        else:
            invoice_store.soft_delete(tx, invoice, clock.now())
        tx.commit()
        return {"message": "Invoice deleted successfully"}

    return retrying(attempt, retry_on=lost_race)


def invoice_pdf(invoice_id: str) -> Document:
    """§9.8: the document the user downloads."""
    return _pdf(_invoice_records(invoice_id), reference())


def _pdf(records: InvoiceRecords, ref: Reference) -> Document:
    from chalicelib.invoices.pdf import render_invoice

    invoice = records.invoice
    content = render_invoice(invoice, records.credit_notes, ref.settings, _places(ref, invoice.currency))
    return Document(content, "application/pdf", f"invoice-{invoice.invoice_number}.pdf")


def resend_invoice(admin: Principal, invoice_id: str, body: ResendBody) -> dict[str, Any]:
    """§9.11: the invoice mail again, with the PDF, to the owner or the address given — a PAID invoice as its
    receipt (`invoice.paid`'s template), any other as the invoice mail (`invoice.created`'s), so what the customer
    gets is the admin's template of that mail. At most RESENDS_PER_HOUR per invoice and UTC hour."""
    from chalicelib.email_templates.service import compose
    from chalicelib.notifications.mail import Attachment, send_email
    from chalicelib.store.ratelimits import spend_hourly_allowance

    records = _invoice_records(invoice_id)
    invoice = records.invoice
    owner = find_user(invoice.user_id)
    sent_to = body.email or (owner.email if owner else None)
    if not sent_to:
        raise BadRequest("Invalid email format")  # no address given and none on file
    now = clock.now()
    spend_hourly_allowance(RESEND_ACTION, invoice.id, RESENDS_PER_HOUR, now)
    ref = reference()
    mail = _invoice_mail(invoice, owner, _places(ref, invoice.currency))
    rendered = compose(mail.TYPE, mail.to_data())
    document = _pdf(records, ref)
    send_email(
        sent_to,
        rendered.subject,
        rendered.text_body,
        "receipt" if isinstance(mail, InvoicePaid) else "invoice",
        [Attachment(document.filename, document.media_type, document.content)],
        html_body=rendered.html_body or None,
    )
    tx = Transaction()
    tx.events.append(Event(InvoiceResent(invoice.id, sent_to), Actor("admin", admin.user_id), occurred_at=now))
    tx.commit()
    return {"message": "Invoice sent", "sent_to": sent_to}


def _invoice_mail(invoice: InvoiceItem, owner: UserItem | None, places: int) -> InvoicePaid | InvoiceCreated:
    """The variables of the mail an invoice is resent as: the receipt once PAID, else the invoice mail."""
    amount = format_money(invoice.total_amount, places)
    if invoice.status == "PAID" and invoice.paid_at is not None:
        return InvoicePaid(
            invoice_id=invoice.id,
            invoice_number=invoice.invoice_number,
            user_id=invoice.user_id,
            user_email=owner.email if owner else "",
            user_name=(owner.name if owner else None) or "",
            amount=amount,
            currency=invoice.currency,
            paid_at=iso(invoice.paid_at) or "",
            paid_date=invoice.paid_at.date().isoformat(),
            payment_reference=invoice.payment_ref or "",
            provider=invoice.payment_method or "",
            invoice_url=f"/invoices/{invoice.id}",
        )
    return InvoiceCreated(
        invoice_id=invoice.id,
        invoice_number=invoice.invoice_number,
        user_id=invoice.user_id,
        billing_reason=invoice.billing_reason,
        subscription_id=invoice.subscription_id,
        currency=invoice.currency,
        total_amount=amount,
        due_date=iso(invoice.due_date),
    )


def credit_notes(invoice_id: str) -> dict[str, Any]:
    """§9.12: the invoice's credit notes, oldest first."""
    records = _invoice_records(invoice_id)
    places = _places(reference(), records.invoice.currency)
    notes = sorted(records.credit_notes, key=lambda n: (n.created_at, n.credit_note_number))
    return {"credit_notes": [invoice_json.credit_note(note, places) for note in notes]}


def credit_note_pdf(credit_note_id: str) -> Document:
    """§9.12: one credit note as PDF."""
    from chalicelib.invoices.pdf import render_credit_note

    note = invoice_store.find_credit_note(credit_note_id)
    if note is None or invoice_store.invoice_records(note.invoice_id) is None:
        raise NotFound("Credit note not found")
    ref = reference()
    content = render_credit_note(note, ref.settings, _places(ref, note.currency))
    return Document(content, "application/pdf", f"credit-note-{note.credit_note_number}.pdf")


# --- subscriptions (admin.md §8) -------------------------------------------------------------------------------


def list_subscriptions(query: AdminSubscriptionsQuery, page: PageRequest) -> Page[dict[str, Any]]:
    """§8.2: the subscriptions repository's page (an index Query, the total from counters). A plan name names one
    plan of the catalog; `search` one user by e-mail (the e-mail guard), whose own partition is then read."""
    ref = reference()
    user_id, plan_id = query.user_id, query.plan_id
    nothing: Page[dict[str, Any]] = Page([], 0, page.offset, page.limit)
    if query.plan:
        name = query.plan.strip().lower()
        plan = next((p for p in ref.plans if p.name.lower() == name), None)
        if plan is None or (plan_id is not None and plan.id != plan_id):
            return nothing
        plan_id = plan.id
    if query.search:
        owner = find_user_by_email(query.search.strip())
        if owner is None or (user_id is not None and owner.id != user_id):
            return nothing
        user_id = owner.id
    flt = subscription_store.SubscriptionFilter(query.status, plan_id, user_id)
    found = subscription_store.admin_subscriptions_page(flt, page)
    owners = _owners({sub.user_id for sub in found.items})
    return found.map(lambda sub: admin_subscription(sub, ref, owners.get(sub.user_id)))


def _subscription(subscription_id: str) -> SubscriptionItem:
    sub = repository.find_subscription(subscription_id)
    if sub is None:
        raise NotFound(SUBSCRIPTION_NOT_FOUND)
    return sub


def _subscription_answer(sub: SubscriptionItem, message: str | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {"subscription": admin_subscription(sub, reference(), find_user(sub.user_id))}
    if message is not None:
        answer["message"] = message
    return answer


def get_subscription(subscription_id: str) -> dict[str, Any]:
    """§8.3: the subscription with its plan, add-ons and payment history."""
    sub = _subscription(subscription_id)
    ref = reference()
    plan = ref.plan(sub.tarif_plan_id)
    now = clock.now()
    addons = subscription_store.linked_addons(sub.user_id, sub.id)
    history = [
        {
            "id": invoice.id,
            "invoice_number": invoice.invoice_number,
            "amount": invoice.total_amount,
            "currency": invoice.currency,
            "status": invoice.status,
            "billing_reason": invoice.billing_reason,
            "created_at": iso(invoice.created_at),
        }
        for invoice in invoice_store.invoices_of(sub.user_id)
        if invoice.subscription_id == sub.id
        or any(ln.item_type == "SUBSCRIPTION" and ln.item_id == sub.id for ln in invoice.lines)
    ]
    return {
        "subscription": {
            **admin_subscription(sub, ref, find_user(sub.user_id)),
            "plan_description": plan.description if plan else None,
            "plan_price": format_money(plan.price, _places(ref, plan.currency)) if plan else None,
            "plan_billing_period": plan.billing_period if plan else None,
            "add_ons": [subscription_json.addon_subscription(a, now, sub) for a in addons],
            "payment_history": history,
        }
    }


def cancel_subscription(admin: Principal, subscription_id: str, body: AdminCancelBody) -> dict[str, Any]:
    """§8.5: the user's cancel (subscriptions.md §9.1), immediate unless asked otherwise, by the admin."""
    from chalicelib.subscriptions.service import cancel

    sub = _subscription(subscription_id)
    cancel(admin, subscription_id, body.reason or "admin", body.immediately, owner_id=sub.user_id)
    return _subscription_answer(_subscription(subscription_id), "Subscription cancelled")


def extend_subscription(admin: Principal, subscription_id: str, body: ExtendBody) -> dict[str, Any]:
    """§8.4: `expires_at` (and a trial's end and its first invoice's due date) later by `days`."""

    def attempt() -> dict[str, Any]:
        sub = _subscription(subscription_id)
        ref = reference()
        now = clock.now()
        tx = Transaction()
        if sub.expires_at is not None:
            extra = timedelta(days=body.days)
            renewals.withdraw_renewal(tx, sub, "subscription_extended", Actor("admin", admin.user_id), now)
            sub.expires_at = sub.expires_at + extra
            sub.anchor_day = sub.expires_at.day  # as after a resume (subscriptions.md §3): periods follow the new end
            if sub.status == "TRIALING" and sub.trial_end_at is not None:
                sub.trial_end_at = sub.trial_end_at + extra
                records = invoice_store.invoice_records(sub.pending_invoice_id) if sub.pending_invoice_id else None
                if records is not None and records.invoice.due_date is not None:
                    records.invoice.due_date = records.invoice.due_date + extra
                    records.invoice.updated_at = now
                    invoice_store.update_invoice(tx, records.invoice)
            sub.updated_at = now
            subscription_store.update_subscription(tx, sub, LifecyclePolicy.of(ref))
        plan = ref.plan(sub.tarif_plan_id)
        if plan is not None:
            event = SubscriptionExtended(**subscription_data(sub, plan), days=body.days, expires_at=iso(sub.expires_at))
            tx.events.append(Event(event, Actor("admin", admin.user_id), occurred_at=now))
        tx.commit()
        return _subscription_answer(sub, f"Subscription extended by {body.days} days")

    return retrying(attempt, retry_on=lost_race)


ACTIVATION_MOVES = {
    "PENDING": Move.ACTIVATE,
    "PAST_DUE": Move.RENEW,
    "PAUSED": Move.RESUME,
    "CANCELLED": Move.REINSTATE,
    "EXPIRED": Move.REINSTATE,
}


def activate_subscription(admin: Principal, subscription_id: str) -> dict[str, Any]:
    """§8.6: ACTIVE with a fresh period from now, dunning and cancellation cleared, plan tokens credited."""

    def attempt() -> dict[str, Any]:
        sub = _subscription(subscription_id)
        if sub.status == "TRIALING":
            raise BadRequest("Trial subscriptions can only be activated via invoice payment")
        if sub.status == "ACTIVE":
            raise BadRequest("Subscription is already active")
        ref = reference()
        now = clock.now()
        plan = ref.plan(sub.tarif_plan_id)
        if plan is None:
            raise LookupError(f"plan {sub.tarif_plan_id} is not in the catalog")
        machine.move(sub, ACTIVATION_MOVES[sub.status], now)
        sub.started_at = sub.started_at or now
        sub.current_period_start = now
        sub.anchor_day = now.day
        sub.expires_at = add_period(now, plan.billing_period, now.day)
        sub.payment_failed_at = sub.past_due_since = sub.next_retry_at = sub.paused_at = None
        sub.dunning_attempts = 0
        sub.cancelled_at = sub.cancel_reason = None
        sub.cancel_at_period_end = False
        actor = Actor("admin", admin.user_id)
        tx = Transaction()
        ledger = Ledger(sub.user_id, token_balance(sub.user_id), now, actor)
        tokens = plan_tokens(plan)
        if tokens > 0:
            ledger.credit(tokens, "SUBSCRIPTION", sub.id, f"Plan tokens: {plan.name}")
        ledger.write(tx)
        subscription_store.update_subscription(tx, sub, LifecyclePolicy.of(ref))
        activated = SubscriptionActivated(
            **subscription_data(sub, plan), started_at=iso(sub.started_at), expires_at=iso(sub.expires_at)
        )
        tx.events.append(Event(activated, actor, occurred_at=now))
        tx.commit()
        return _subscription_answer(sub, "Subscription activated")

    return retrying(attempt, retry_on=lost_race)


def duplicate_invoice(admin: Principal, invoice_id: str, recorder: AnswerRecorder | None = None) -> dict[str, Any]:
    """§9.3: a new PENDING MANUAL invoice for the same user, plan, subscription and currency, with copies of the
    lines at the same prices and tax; its capture records the payment and activates nothing."""
    from chalicelib.invoices.builder import Line
    from chalicelib.invoices.issue import InvoiceDraft, issue

    records = _invoice_records(invoice_id)
    source = records.invoice
    ref = reference()
    owner = find_user(source.user_id)
    places = _places(ref, source.currency)
    # The tax the original carried (its code and rate), so the copies cost what the original lines did.
    tax = next((t for t in ref.taxes if t.code == source.tax_code and t.rate == source.tax_rate), None)
    lines = [
        Line(
            line_id=new_id(),
            item_type=str(line.item_type),
            description=str(line.description),
            unit_price=line.unit_price,
            item_id=line.item_id,
            catalog_item_id=line.catalog_item_id,
            quantity=int(line.quantity),
            metadata=dict(line.metadata or {}),
        )
        for line in source.lines
    ]
    now = clock.now()

    def attempt() -> dict[str, Any]:
        tx = Transaction()
        draft = InvoiceDraft(
            user_id=source.user_id,
            billing_reason="MANUAL",
            currency=source.currency,
            places=places,
            lines=lines,
            tax=tax,
            details=find_details(source.user_id),
            due_date=now + timedelta(days=int(ref.settings["invoice_due_days"])),
            prefix=str(ref.settings["invoice_prefix"]),
            payment_method=source.payment_method,
            subscription_id=source.subscription_id,
            tarif_plan_id=source.tarif_plan_id,
        )
        copy = issue(tx, draft, now, Actor("admin", admin.user_id))
        answer = {"invoice": admin_invoice(copy, places, owner, []), "message": "Invoice duplicated successfully"}
        if recorder is not None:
            recorder.record(tx, answer)
        tx.commit()
        return answer

    return retrying(attempt, retry_on=lost_race)


def change_plan(admin: Principal, subscription_id: str, body: PlanBody) -> dict[str, Any]:
    """§8.7: the plan switched at once by the subscriptions domain (no invoice, no proration)."""
    from chalicelib.subscriptions.service import change_plan_now

    sub = _subscription(subscription_id)
    changed, ref = change_plan_now(admin, sub.user_id, subscription_id, body.plan_id)
    return {
        "subscription": admin_subscription(changed, ref, find_user(changed.user_id)),
        "message": "Subscription plan changed",
    }


def _expect_authorized(invoice: InvoiceItem) -> None:
    if invoice.status != "AUTHORIZED":
        raise BadRequest(f"Invoice status is {invoice.status}, expected AUTHORIZED")


def capture_authorized(admin: Principal, invoice_id: str, recorder: AnswerRecorder | None = None) -> dict[str, Any]:
    """§9.9: the provider takes the authorized money, then the capture of checkout-and-payments.md §6 runs."""
    from chalicelib.payments.capture import NotCapturable, capture
    from chalicelib.payments.outcomes import ProviderCaptureFailed
    from chalicelib.payments.providers import provider

    records = _invoice_records(invoice_id)
    invoice = records.invoice
    _expect_authorized(invoice)
    if not invoice.payment_intent_id:
        raise BadRequest("No payment_intent_id on invoice")
    try:
        payment = provider(invoice.payment_method or "").capture_authorized(invoice)
    except (ProviderCaptureFailed, KeyError) as exc:
        raise BadRequest(f"Provider capture failed: {exc}") from exc
    answer = {"invoice_id": invoice.id, "status": "PAID"}

    def record(tx: Transaction, _: Any) -> None:
        if recorder is not None:
            recorder.record(tx, answer)

    try:
        capture(
            invoice.id, payment, Actor("admin", admin.user_id), extra=record, preloaded=(invoice, records.purchases)
        )
    except NotCapturable as exc:
        _expect_authorized(exc.invoice)
        raise
    return answer


def release_authorized(admin: Principal, invoice_id: str, recorder: AnswerRecorder | None = None) -> dict[str, Any]:
    """§9.10: the provider lets the authorization go, then the invoice and what it bills are CANCELLED."""
    from chalicelib.payments.providers import provider

    first = _invoice_records(invoice_id)
    _expect_authorized(first.invoice)
    provider(first.invoice.payment_method or "").release(first.invoice)
    answer = {"invoice_id": invoice_id, "status": "CANCELLED"}

    def attempt() -> dict[str, Any]:
        records = _invoice_records(invoice_id)
        _expect_authorized(records.invoice)
        tx = Transaction()
        _void_with_what_it_bills(tx, records, admin, released=True)
        if recorder is not None:
            recorder.record(tx, answer)
        tx.commit()
        return answer

    return retrying(attempt, retry_on=lost_race)
