"""Bank transfer (`invoice`, contract checkout-and-payments.md §10.3): paying means receiving instructions.

The invoice stays PENDING; an admin marks it paid when the money arrives, or a bank integration reports it
through the signed payment webhook. There is no saved method and nothing to refund through an API.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from chalicelib.catalog.pricing import Currencies
from chalicelib.catalog.repository import reference
from chalicelib.core.money import format_money
from chalicelib.core.times import iso
from chalicelib.payments.outcomes import Payment, PaymentKind, ProviderCaptureFailed, ProviderStart, SavedMethodCharge

if TYPE_CHECKING:
    from chalicelib.invoices.models import InvoiceItem
    from chalicelib.invoices.repository import InvoiceRecords
    from chalicelib.payments.schemas import PayBody


class BankTransferProvider:
    code = "invoice"

    def start(self, records: InvoiceRecords, options: PayBody) -> ProviderStart:
        invoice = records.invoice
        ref = reference()
        settings = ref.settings
        method = next((m for m in ref.payment_methods if m.code == self.code), None)
        places = Currencies.of(ref.currencies).places(invoice.currency)
        instructions = {
            "text": method.instructions if method else None,
            "account_holder": settings["provider_name"],
            "bank_name": settings["bank_name"],
            "iban": settings["bank_iban"],
            "bic": settings["bank_bic"],
            "reference": invoice.invoice_number,
            "amount": format_money(invoice.total_amount, places),
            "currency": invoice.currency,
            "due_date": iso(invoice.due_date),
        }
        payment = {"provider": self.code, "status": "pending", "instructions": instructions}
        return ProviderStart(PaymentKind.INSTRUCTIONS, payment)

    def refund(self, invoice: InvoiceItem, amount: Decimal, key: str) -> str | None:
        return None  # paid back by the merchant's bank, outside the system

    def capture_authorized(self, invoice: InvoiceItem) -> Payment:
        raise ProviderCaptureFailed("Bank transfers are never authorized")

    def release(self, invoice: InvoiceItem) -> None:
        return None  # nothing is held

    def charge_saved(
        self, invoice: InvoiceItem, saved_method: dict[str, Any], idempotency_key: str
    ) -> SavedMethodCharge:
        """A bank transfer saves no method: there is nothing to charge (its renewals are mailed and wait)."""
        return SavedMethodCharge.declined("no_saved_method", "Bank transfer has no saved payment method")
