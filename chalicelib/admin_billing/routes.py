"""The admin's billing routes (contract admin.md §8–§9): subscriptions, invoices, refunds and credit notes."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint, Response

from chalicelib.core.lazy import lazy_module, model_refs
from chalicelib.http.access import admin
from chalicelib.http.pagination import page_keys, page_or_default
from chalicelib.http.request import Req
from chalicelib.http.responses import attachment
from chalicelib.http.routing import Binary, route

if TYPE_CHECKING:
    from chalicelib.admin_billing.schemas import (
        AdminCancelBody,
        AdminInvoicesQuery,
        AdminSubscriptionsQuery,
        CreateSubscriptionBody,
        ExtendBody,
        PlanBody,
        RefundBody,
        ResendBody,
    )

bp = Blueprint(__name__)
schemas = model_refs("chalicelib.admin_billing.schemas")
service = lazy_module("chalicelib.admin_billing.service")
creation = lazy_module("chalicelib.admin_billing.creation")
INVOICE_ID = ("invoice_id",)
SUBSCRIPTION_ID = ("subscription_id",)
MANAGE_INVOICES = admin("invoices.manage")
VIEW_INVOICES = admin("invoices.view")
MANAGE_SUBSCRIPTIONS = admin("subscription.subscriptions.manage")
VIEW_SUBSCRIPTIONS = admin("subscription.subscriptions.view")
DEFAULT_PAGE = 20
SUBSCRIPTION_PLUGIN = "subscription"  # admin.md §8: the subscription plugin's routes
# The routes of one invoice or one subscription, by what they need.
manage_invoice = functools.partial(route, bp, access=MANAGE_INVOICES, uuid_params=INVOICE_ID)
view_invoice = functools.partial(route, bp, access=VIEW_INVOICES, uuid_params=INVOICE_ID)
manage_subscription = functools.partial(
    route, bp, access=MANAGE_SUBSCRIPTIONS, plugin=SUBSCRIPTION_PLUGIN, uuid_params=SUBSCRIPTION_ID
)
view_subscription = functools.partial(
    route, bp, access=VIEW_SUBSCRIPTIONS, plugin=SUBSCRIPTION_PLUGIN, uuid_params=SUBSCRIPTION_ID
)


@manage_invoice(
    "/admin/invoices/{invoice_id}/refund",
    "POST",
    idempotent=True,
    body=schemas.RefundBody,
    responses={200: schemas.InvoiceRefundAnswer},
)
def refund_invoice(req: Req, invoice_id: str, body: RefundBody) -> Any:
    """Refund a PAID invoice in full or in part: provider first, then the credit note and reversals at once."""
    return service.refund_invoice(req.user, invoice_id, body, req.idempotency)


@route(
    bp,
    "/admin/subscriptions",
    "POST",
    access=MANAGE_SUBSCRIPTIONS,
    plugin=SUBSCRIPTION_PLUGIN,
    idempotent=True,
    body=schemas.CreateSubscriptionBody,
    status=201,
    responses={201: schemas.CreatedSubscriptionAnswer},
)
def create_subscription(req: Req, body: CreateSubscriptionBody) -> Any:
    """Give a user a plan: ACTIVE at once with its plan tokens and an open invoice, or TRIALING like a checkout."""
    return creation.create_subscription(req.user, body, req.idempotency)


@manage_subscription(
    "/admin/subscriptions/{subscription_id}/refund",
    "POST",
    idempotent=True,
    body=schemas.RefundBody,
    responses={200: schemas.SubscriptionRefundAnswer},
)
def refund_subscription(req: Req, subscription_id: str, body: RefundBody) -> Any:
    """Refund the subscription's most recent PAID invoice; a full refund cancels it and its add-ons."""
    return service.refund_subscription(req.user, subscription_id, body, req.idempotency)


def _document(document: Any) -> Response:
    return attachment(document.content, document.media_type, document.filename)


@route(
    bp,
    "/admin/invoices",
    "GET",
    access=VIEW_INVOICES,
    query=schemas.AdminInvoicesQuery,
    responses={200: schemas.AdminInvoicesAnswer},
)
def list_admin_invoices(req: Req, query: AdminInvoicesQuery) -> Any:
    """Every invoice, newest first, by status, user, number or e-mail and invoice date; a page with its total."""
    page = service.list_invoices(query, page_or_default(req, DEFAULT_PAGE).request)
    return {"invoices": page.items, **page_keys(req, page)}


@view_invoice(
    "/admin/invoices/{invoice_id}",
    "GET",
    responses={200: schemas.InvoiceDetailAnswer},
)
def get_admin_invoice(req: Req, invoice_id: str) -> Any:
    """One invoice with its owner, plan, subscription and payment attempts."""
    return service.get_invoice(invoice_id)


@manage_invoice(
    "/admin/invoices/{invoice_id}/duplicate",
    "POST",
    idempotent=True,
    body=schemas.NoFields,
    status=201,
    responses={201: schemas.InvoiceDuplicateAnswer},
)
def duplicate_invoice(req: Req, invoice_id: str, body: Any) -> Any:
    """A new PENDING MANUAL invoice with copies of the lines; paying it activates nothing."""
    return service.duplicate_invoice(req.user, invoice_id, req.idempotency)


@manage_invoice(
    "/admin/invoices/{invoice_id}/capture",
    "POST",
    idempotent=True,
    body=schemas.NoFields,
    responses={200: schemas.AuthorizationAnswer},
)
def capture_invoice(req: Req, invoice_id: str, body: Any) -> Any:
    """Capture an AUTHORIZED invoice at its provider, then activate what it bills."""
    return service.capture_authorized(req.user, invoice_id, req.idempotency)


@manage_invoice(
    "/admin/invoices/{invoice_id}/release",
    "POST",
    idempotent=True,
    body=schemas.NoFields,
    responses={200: schemas.AuthorizationAnswer},
)
def release_invoice(req: Req, invoice_id: str, body: Any) -> Any:
    """Let an authorization go at its provider and cancel the invoice with what it bills."""
    return service.release_authorized(req.user, invoice_id, req.idempotency)


@manage_invoice(
    "/admin/invoices/{invoice_id}/void",
    "POST",
    body=schemas.NoFields,
    responses={200: schemas.InvoiceVoidAnswer},
)
def void_invoice(req: Req, invoice_id: str, body: Any) -> Any:
    """Cancel an unpaid invoice with the PENDING purchases, subscription and add-ons it bills."""
    return service.void_invoice(req.user, invoice_id)


@manage_invoice(
    "/admin/invoices/{invoice_id}/resend",
    "POST",
    body=schemas.ResendBody,
    responses={200: schemas.ResendAnswer},
)
def resend_invoice(req: Req, invoice_id: str, body: ResendBody) -> Any:
    """Mail the invoice again with its PDF (a paid one as its receipt), at most ten times an hour."""
    return service.resend_invoice(req.user, invoice_id, body)


@manage_invoice(
    "/admin/invoices/{invoice_id}",
    "DELETE",
    responses={200: schemas.MessageAnswer},
)
def delete_invoice(req: Req, invoice_id: str) -> Any:
    """Soft-delete an unpaid invoice: gone from every list and read, its number still taken."""
    return service.delete_invoice(req.user, invoice_id)


@view_invoice(
    "/admin/invoices/{invoice_id}/pdf",
    "GET",
    responses={200: Binary("application/pdf", "The invoice as a PDF document (an attachment)")},
)
def admin_invoice_pdf(req: Req, invoice_id: str) -> Any:
    """Any invoice as PDF."""
    return _document(service.invoice_pdf(invoice_id))


@view_invoice(
    "/admin/invoices/{invoice_id}/credit-notes",
    "GET",
    responses={200: schemas.CreditNotesAnswer},
)
def invoice_credit_notes(req: Req, invoice_id: str) -> Any:
    """The invoice's credit notes, oldest first."""
    return service.credit_notes(invoice_id)


@route(
    bp,
    "/admin/credit-notes/{credit_note_id}/pdf",
    "GET",
    access=VIEW_INVOICES,
    uuid_params=("credit_note_id",),
    responses={200: Binary("application/pdf", "The credit note as a PDF document (an attachment)")},
)
def credit_note_pdf(req: Req, credit_note_id: str) -> Any:
    """A credit note as PDF."""
    return _document(service.credit_note_pdf(credit_note_id))


@route(
    bp,
    "/admin/subscriptions",
    "GET",
    access=VIEW_SUBSCRIPTIONS,
    plugin=SUBSCRIPTION_PLUGIN,
    query=schemas.AdminSubscriptionsQuery,
    responses={200: schemas.AdminSubscriptionsAnswer},
)
def list_admin_subscriptions(req: Req, query: AdminSubscriptionsQuery) -> Any:
    """Every subscription, newest first, by status, user, plan or owner e-mail; a page with its total."""
    page = service.list_subscriptions(query, page_or_default(req, DEFAULT_PAGE).request)
    return {"subscriptions": page.items, **page_keys(req, page)}


@view_subscription(
    "/admin/subscriptions/{subscription_id}",
    "GET",
    responses={200: schemas.AdminSubscriptionDetailAnswer},
)
def get_admin_subscription(req: Req, subscription_id: str) -> Any:
    """One subscription with its plan, add-ons and payment history."""
    return service.get_subscription(subscription_id)


@manage_subscription(
    "/admin/subscriptions/{subscription_id}/cancel",
    "POST",
    body=schemas.AdminCancelBody,
    responses={200: schemas.AdminSubscriptionAnswer},
)
def cancel_subscription(req: Req, subscription_id: str, body: AdminCancelBody) -> Any:
    """Cancel a subscription now (or at its period end), with its add-ons."""
    return service.cancel_subscription(req.user, subscription_id, body)


@manage_subscription(
    "/admin/subscriptions/{subscription_id}/extend",
    "POST",
    body=schemas.ExtendBody,
    responses={200: schemas.AdminSubscriptionAnswer},
)
def extend_subscription(req: Req, subscription_id: str, body: ExtendBody) -> Any:
    """Move a subscription's end (and a trial's) later by a number of days."""
    return service.extend_subscription(req.user, subscription_id, body)


@manage_subscription(
    "/admin/subscriptions/{subscription_id}/activate",
    "POST",
    body=schemas.NoFields,
    responses={200: schemas.AdminSubscriptionAnswer},
)
def activate_subscription(req: Req, subscription_id: str, body: Any) -> Any:
    """Make a subscription ACTIVE with a fresh period from now and its plan tokens."""
    return service.activate_subscription(req.user, subscription_id)


@manage_subscription(
    "/admin/subscriptions/{subscription_id}/plan",
    "PUT",
    body=schemas.PlanBody,
    responses={200: schemas.AdminSubscriptionAnswer},
)
def change_subscription_plan(req: Req, subscription_id: str, body: PlanBody) -> Any:
    """Switch a subscription's plan at once: no invoice, no proration, the period kept."""
    return service.change_plan(req.user, subscription_id, body)
