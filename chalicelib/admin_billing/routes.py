"""The admin's billing routes (contract admin.md §8–§9): subscriptions, invoices, refunds and credit notes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint

from chalicelib.core.lazy import lazy_module, model_refs
from chalicelib.http.access import admin
from chalicelib.http.request import Req
from chalicelib.http.routing import route

if TYPE_CHECKING:
    from chalicelib.admin_billing.schemas import RefundBody

bp = Blueprint(__name__)
schemas = model_refs("chalicelib.admin_billing.schemas")
service = lazy_module("chalicelib.admin_billing.service")
INVOICE_ID = ("invoice_id",)
SUBSCRIPTION_ID = ("subscription_id",)
MANAGE_INVOICES = admin("invoices.manage")
MANAGE_SUBSCRIPTIONS = admin("subscription.subscriptions.manage")


@route(
    bp,
    "/admin/invoices/{invoice_id}/refund",
    "POST",
    access=MANAGE_INVOICES,
    uuid_params=INVOICE_ID,
    idempotent=True,
    body=schemas.RefundBody,
    responses={200: schemas.InvoiceRefundAnswer},
)
def refund_invoice(req: Req, invoice_id: str, body: RefundBody) -> Any:
    """Refund a PAID invoice in full or in part: provider first, then the credit note and reversals at once."""
    return service.refund_invoice(req.user, invoice_id, body, req.idempotency)


@route(
    bp,
    "/admin/subscriptions/{subscription_id}/refund",
    "POST",
    access=MANAGE_SUBSCRIPTIONS,
    uuid_params=SUBSCRIPTION_ID,
    idempotent=True,
    body=schemas.RefundBody,
    responses={200: schemas.SubscriptionRefundAnswer},
)
def refund_subscription(req: Req, subscription_id: str, body: RefundBody) -> Any:
    """Refund the subscription's most recent PAID invoice; a full refund cancels it and its add-ons."""
    return service.refund_subscription(req.user, subscription_id, body, req.idempotency)
