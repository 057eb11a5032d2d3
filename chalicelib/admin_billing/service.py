"""The admin's billing use cases (contract admin.md §8–§9): each one reads, calls the domain that owns the change
(the refund pipeline, the subscriptions' state machine, the invoices' repository) and shapes the admin's answer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.admin_billing import repository
from chalicelib.catalog.repository import Reference
from chalicelib.core import clock
from chalicelib.core.errors import BadRequest, NotFound
from chalicelib.core.times import iso
from chalicelib.events.envelope import Actor
from chalicelib.invoices import serializers as invoice_json
from chalicelib.refunds import service as refunds
from chalicelib.store.transactions import Transaction
from chalicelib.subscriptions import serializers as subscription_json
from chalicelib.subscriptions.models import SubscriptionItem
from chalicelib.users.models import UserItem

if TYPE_CHECKING:
    from chalicelib.admin_billing.schemas import RefundBody
    from chalicelib.auth.principal import Principal
    from chalicelib.core.idempotency import AnswerRecorder
    from chalicelib.invoices.models import InvoiceItem

SUBSCRIPTION_NOT_FOUND = "Subscription not found"


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
