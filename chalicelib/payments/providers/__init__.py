"""Payment providers behind one interface (contract checkout-and-payments.md §10).

A provider's code is its payment-method code and its plugin name. Each provider module exposes a class with
`start` (begin paying an invoice: capture at once, authorize, return instructions, or hand back a redirect) and
`refund` (give money back; `None` when the money is settled outside, as for bank transfers). Providers load on
first use, so their SDKs never weigh on a cold start.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from chalicelib.auth.principal import Principal
    from chalicelib.invoices.models import CreditNoteItem, InvoiceItem
    from chalicelib.invoices.repository import InvoiceRecords

_IMPLEMENTATIONS = {
    "sandbox": "chalicelib.payments.providers.sandbox:SandboxProvider",
    "invoice": "chalicelib.payments.providers.bank_transfer:BankTransferProvider",
}


@dataclass
class PaymentStart:
    """What `POST /user/invoices/<id>/pay` answers (§5.4): HTTP status, message, the `payment` object."""

    status: int
    message: str
    payment: dict[str, Any]
    invoice: InvoiceItem
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    credit_notes: list[CreditNoteItem] = field(default_factory=list)  # issued by a capture that refunded lines


class PaymentProvider(Protocol):
    code: str

    def start(self, records: InvoiceRecords, principal: Principal, options: dict[str, Any]) -> PaymentStart: ...

    def refund(self, invoice: InvoiceItem, amount: Decimal) -> str | None: ...


def has_provider(code: str) -> bool:
    return code in _IMPLEMENTATIONS


def provider(code: str) -> PaymentProvider:
    module_name, class_name = _IMPLEMENTATIONS[code].split(":")
    implementation: PaymentProvider = getattr(importlib.import_module(module_name), class_name)()
    return implementation


def refund_reference_for(code: str, invoice: InvoiceItem, amount: Decimal) -> str | None:
    """Give `amount` back through the provider that took it; None when it is settled outside (bank, manual)."""
    if not has_provider(code):
        return None
    return provider(code).refund(invoice, amount)
