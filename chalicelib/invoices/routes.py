"""The user's invoices and paying them (contract checkout-and-payments.md §5.3–§5.4); admin mark-paid."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Blueprint

from chalicelib.core.lazy import lazy_module, model_refs
from chalicelib.http.access import USER, admin
from chalicelib.http.pagination import whole_list_or_page
from chalicelib.http.request import Req
from chalicelib.http.responses import attachment
from chalicelib.http.routing import Binary, Reply, route
from chalicelib.payments.outcomes import PaymentKind, PaymentOutcome

if TYPE_CHECKING:
    from chalicelib.invoices.schemas import InvoicesQuery
    from chalicelib.payments.schemas import MarkPaidBody, PayBody

bp = Blueprint(__name__)
payments_schemas = model_refs("chalicelib.payments.schemas")
schemas = model_refs("chalicelib.invoices.schemas")
service = lazy_module("chalicelib.invoices.service")
payments = lazy_module("chalicelib.payments.service")
INVOICE_ID = ("invoice_id",)
DEFAULT_PAGE = 20
PAY_STATUS = {
    PaymentKind.CAPTURED: 200,
    PaymentKind.AUTHORIZED: 200,
    PaymentKind.INSTRUCTIONS: 202,
    PaymentKind.DECLINED: 402,
    PaymentKind.REDIRECT: 202,
}


@route(bp, "/user/invoices", "GET", access=USER, query=schemas.InvoicesQuery, responses={200: schemas.InvoicesAnswer})
def list_invoices(req: Req, query: InvoicesQuery) -> Any:
    """The caller's invoices, newest first; the whole list, or a page when paging is asked for."""
    return whole_list_or_page(
        req, "invoices", lambda page: service.list_invoices(req.user, page, query.status), DEFAULT_PAGE
    )


@route(
    bp,
    "/user/invoices/{invoice_id}",
    "GET",
    access=USER,
    uuid_params=INVOICE_ID,
    responses={200: schemas.InvoiceAnswer},
)
def get_invoice(req: Req, invoice_id: str) -> Any:
    """One invoice of the caller, with its lines and credit notes."""
    return service.get_invoice(req.user, invoice_id)


@route(
    bp,
    "/user/invoices/{invoice_id}/pdf",
    "GET",
    access=USER,
    uuid_params=INVOICE_ID,
    responses={200: Binary("application/pdf", "The invoice as a PDF document (an attachment)")},
)
def invoice_pdf(req: Req, invoice_id: str) -> Any:
    """The caller's invoice as PDF."""
    document = service.invoice_pdf(req.user, invoice_id)
    return attachment(document.content, document.media_type, document.filename)


def render_payment(outcome: PaymentOutcome) -> Reply:
    """Captured or authorized: 200; instructions to pay outside: 202; declined: 402 with the invoice (§5.4)."""
    status = PAY_STATUS[outcome.kind]
    if outcome.kind is PaymentKind.DECLINED:
        return Reply({"error": outcome.message, "invoice": outcome.invoice, "payment": outcome.payment}, status)
    return Reply({"invoice": outcome.invoice, "message": outcome.message, "payment": outcome.payment}, status)


@route(
    bp,
    "/user/invoices/{invoice_id}/pay",
    "POST",
    access=USER,
    uuid_params=INVOICE_ID,
    idempotent=True,
    body=payments_schemas.PayBody,
    render=render_payment,
    responses={
        200: payments_schemas.PaymentTaken,
        202: payments_schemas.PaymentPending,
        402: payments_schemas.PaymentDeclined,
        409: "Payment already in progress for this invoice, or a concurrent modification",
        502: "Payment provider error: <provider message>",
        503: "Payment provider not configured",
    },
)
def pay_invoice(req: Req, invoice_id: str, body: PayBody) -> Any:
    """Start paying the caller's invoice with its payment method; never marks it paid by itself."""
    return payments.pay(
        req.user,
        invoice_id,
        body,
        req.idempotency,
        origin=req.header("origin"),
        referer=req.header("referer"),
        request_key=req.header("idempotency-key"),
    )


@route(
    bp,
    "/admin/invoices/{invoice_id}/mark-paid",
    "POST",
    access=admin("invoices.manage"),
    uuid_params=INVOICE_ID,
    idempotent=True,
    body=payments_schemas.MarkPaidBody,
    responses={200: payments_schemas.MarkPaidAnswer},
)
def mark_paid(req: Req, invoice_id: str, body: MarkPaidBody) -> Any:
    """Capture a PENDING invoice paid outside the system (no amount check)."""
    return payments.mark_paid(req.user, invoice_id, body, req.idempotency)
