"""The sandbox provider (contract checkout-and-payments.md §10.2): instant test payments, local and dev only.

`succeed` takes the money at once (saving a sandbox method on recurring purchases, so renewals can charge it
later); `authorize` holds it for a later capture; `fail` declines like a card would. The provider only reports
what happened; the payments service captures, authorizes or records the attempt.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from chalicelib.core.ids import new_id
from chalicelib.payments.outcomes import Payment, PaymentKind, ProviderStart

if TYPE_CHECKING:
    from chalicelib.invoices.models import InvoiceItem
    from chalicelib.invoices.repository import InvoiceRecords
    from chalicelib.payments.schemas import PayBody

DECLINE_CODE = "card_declined"
DECLINE_MESSAGE = "The sandbox declined the card"


def has_recurring_lines(invoice: InvoiceItem) -> bool:
    for line in invoice.lines:
        period = (line.metadata or {}).get("billing_period")
        if line.item_type in ("SUBSCRIPTION", "ADD_ON") and period not in (None, "ONE_TIME"):
            return True
    return False


class SandboxProvider:
    code = "sandbox"

    def start(self, records: InvoiceRecords, options: PayBody) -> ProviderStart:
        outcome = options.sandbox_outcome or "succeed"
        if outcome == "authorize":
            intent = f"sandbox_auth_{new_id()}"
            payment = {"provider": self.code, "status": "authorized", "reference": intent}
            return ProviderStart(PaymentKind.AUTHORIZED, payment, intent_id=intent)
        if outcome == "fail":
            payment = {"provider": self.code, "status": "failed", "error_code": DECLINE_CODE}
            return ProviderStart(PaymentKind.DECLINED, payment, error_code=DECLINE_CODE, error_message=DECLINE_MESSAGE)
        reference_ = f"sandbox_{new_id()}"
        saved = None
        if has_recurring_lines(records.invoice):
            saved = {"provider": self.code, "reference": f"pm_sandbox_{new_id()}", "label": "Sandbox test card"}
        taken = Payment(self.code, reference_, transaction_id=reference_, saved_method=saved)
        payment = {"provider": self.code, "status": "captured", "reference": reference_}
        return ProviderStart(PaymentKind.CAPTURED, payment, captured_by=taken)

    def refund(self, invoice: InvoiceItem, amount: Decimal) -> str | None:
        return f"sandbox_refund_{new_id()}"  # the sandbox gives money back at once
