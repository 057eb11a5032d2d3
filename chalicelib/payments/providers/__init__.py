"""Payment providers behind one interface (contract checkout-and-payments.md §10).

A provider's code is its payment-method code and its plugin name. Each provider module exposes a class with
`start` (begin paying an invoice: report a capture, an authorization, instructions or a decline — `ProviderStart`),
`capture_authorized` and `release` (take or let go of the money an authorization holds, §6.3; a refusal raises
`ProviderCaptureFailed`), `refund` (give money back under the caller's idempotency key `<invoice id>:refund:<n>`:
the provider's reference, `None` when the money is settled outside, as for bank transfers and manual payments; a
refusal raises `ProviderRefundFailed`, a key already used for another amount `RefundKeyInUse`) and `charge_saved`
(charge a method saved by an earlier capture, off-session, under the caller's idempotency key: captured with a
`Payment`, or declined — `SavedMethodCharge`; the flow around it is `chalicelib.payments.charges`). A provider talks
to its payment service only: it never writes the invoice, so the payments service applies what it reports in one
transaction (`chalicelib.payments.service`). Providers load on first use, so their SDKs never weigh on a cold
start.
"""

from __future__ import annotations

import importlib
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from chalicelib.payments.outcomes import ProviderRefundFailed as ProviderRefundFailed
from chalicelib.payments.outcomes import RefundKeyInUse as RefundKeyInUse

if TYPE_CHECKING:
    from chalicelib.invoices.models import InvoiceItem
    from chalicelib.invoices.repository import InvoiceRecords
    from chalicelib.payments.outcomes import Payment, ProviderStart, SavedMethodCharge
    from chalicelib.payments.schemas import PayBody

_IMPLEMENTATIONS = {
    "sandbox": "chalicelib.payments.providers.sandbox:SandboxProvider",
    "invoice": "chalicelib.payments.providers.bank_transfer:BankTransferProvider",
    "stripe": "chalicelib.payments.stripe.provider:StripeProvider",
    "yookassa": "chalicelib.payments.yookassa.provider:YookassaProvider",
    "paypal": "chalicelib.payments.paypal.provider:PayPalProvider",
}


class PaymentProvider(Protocol):
    code: str

    def start(self, records: InvoiceRecords, options: PayBody) -> ProviderStart: ...

    def refund(self, invoice: InvoiceItem, amount: Decimal, key: str) -> str | None: ...

    def charge_saved(
        self, invoice: InvoiceItem, saved_method: dict[str, Any], idempotency_key: str
    ) -> SavedMethodCharge: ...

    def capture_authorized(self, invoice: InvoiceItem) -> Payment: ...

    def release(self, invoice: InvoiceItem) -> None: ...


def has_provider(code: str) -> bool:
    return code in _IMPLEMENTATIONS


def provider(code: str) -> PaymentProvider:
    module_name, class_name = _IMPLEMENTATIONS[code].split(":")
    implementation: PaymentProvider = getattr(importlib.import_module(module_name), class_name)()
    return implementation


def refund_key(invoice_id: str, sequence: int) -> str:
    """The idempotency key of the invoice's `sequence`-th refund (checkout-and-payments.md §10.7)."""
    return f"{invoice_id}:refund:{sequence}"


def refund_reference_for(code: str, invoice: InvoiceItem, amount: Decimal, key: str) -> str | None:
    """Give `amount` back through the provider that took it, under `key`; None when it is settled outside
    (`invoice`, `manual`, `none`: no provider call)."""
    if not has_provider(code):
        return None
    return provider(code).refund(invoice, amount, key)


def refund_orphan(payment: Payment, invoice: InvoiceItem, amount: Decimal, key: str) -> str | None:
    """Give back a payment that could not pay `invoice` (it was paid otherwise, or cancelled meanwhile): the
    provider is shown the invoice as this payment left it, so it refunds this payment's money and never the
    capture that paid the invoice (checkout-and-payments.md §6.2 rule 2)."""
    from chalicelib.invoices.models import InvoiceItem

    taken = InvoiceItem()
    taken.from_dynamodb_dict(invoice.to_dynamodb_dict())
    taken.payment_ref, taken.payment_intent_id, taken.provider_session_id = payment.reference, payment.intent_id, None
    return refund_reference_for(payment.provider, taken, amount, key)
