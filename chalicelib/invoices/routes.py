"""The user's invoices and paying them (contract checkout-and-payments.md §5.3–§5.4); admin mark-paid."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint

from chalicelib.core.lazy import lazy_module
from chalicelib.http.access import USER, admin
from chalicelib.http.pagination import whole_list
from chalicelib.http.request import Req
from chalicelib.http.routing import route

bp = Blueprint(__name__)
service = lazy_module("chalicelib.invoices.service")
payments = lazy_module("chalicelib.payments.service")
INVOICE_ID = ("invoice_id",)


@route(bp, "/user/invoices", "GET", access=USER)
def list_invoices(req: Req) -> Any:
    body = service.list_invoices(req.user, req.query("status"))
    return whole_list(req, body, "invoices")


@route(bp, "/user/invoices/{invoice_id}", "GET", access=USER, uuid_params=INVOICE_ID)
def get_invoice(req: Req, invoice_id: str) -> Any:
    return service.get_invoice(req.user, invoice_id)


@route(bp, "/user/invoices/{invoice_id}/pdf", "GET", access=USER, uuid_params=INVOICE_ID)
def invoice_pdf(req: Req, invoice_id: str) -> Any:
    return service.invoice_pdf(req.user, invoice_id)


@route(bp, "/user/invoices/{invoice_id}/pay", "POST", access=USER, uuid_params=INVOICE_ID, idempotent=True)
def pay_invoice(req: Req, invoice_id: str) -> Any:
    return payments.pay(req.user, invoice_id, req.json)


@route(
    bp,
    "/admin/invoices/{invoice_id}/mark-paid",
    "POST",
    access=admin("invoices.manage"),
    uuid_params=INVOICE_ID,
    idempotent=True,
)
def mark_paid(req: Req, invoice_id: str) -> Any:
    return payments.mark_paid(req.user, invoice_id, req.json, req.idempotency)
