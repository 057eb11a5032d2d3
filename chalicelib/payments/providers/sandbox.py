"""The sandbox provider (contract checkout-and-payments.md §10.2): instant test payments, local and dev only.

`succeed` captures at once (saving a sandbox method on recurring purchases, so renewals can charge it later);
`authorize` leaves the invoice AUTHORIZED for a later capture; `fail` declines like a card would.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from chalicelib.catalog.pricing import Currencies
from chalicelib.catalog.repository import reference
from chalicelib.core import clock
from chalicelib.core.ids import new_id
from chalicelib.core.money import format_money
from chalicelib.events.catalog import InvoiceAuthorized, InvoicePaymentFailed, PaymentAuthorized
from chalicelib.events.envelope import Actor, Event
from chalicelib.payments.activation import Payment
from chalicelib.payments.capture import capture
from chalicelib.payments.providers import PaymentStart
from chalicelib.store.transactions import Transaction

if TYPE_CHECKING:
    from chalicelib.auth.principal import Principal
    from chalicelib.invoices.models import InvoiceItem
    from chalicelib.invoices.repository import InvoiceRecords

OUTCOMES = ("succeed", "fail", "authorize")
DECLINE_CODE = "card_declined"


def has_recurring_lines(invoice: InvoiceItem) -> bool:
    for line in invoice.lines:
        period = (line.metadata or {}).get("billing_period")
        if line.item_type in ("SUBSCRIPTION", "ADD_ON") and period not in (None, "ONE_TIME"):
            return True
    return False


class SandboxProvider:
    code = "sandbox"

    def start(self, records: InvoiceRecords, principal: Principal, options: dict[str, Any]) -> PaymentStart:
        outcome = options.get("sandbox_outcome") or "succeed"
        invoice = records.invoice
        if outcome == "authorize":
            return self._authorize(invoice, principal)
        if outcome == "fail":
            return self._decline(invoice, principal)
        reference_ = f"sandbox_{new_id()}"
        saved = None
        if has_recurring_lines(invoice):
            saved = {"provider": self.code, "reference": f"pm_sandbox_{new_id()}", "label": "Sandbox test card"}
        result = capture(
            invoice.id,
            Payment(self.code, reference_, transaction_id=reference_, saved_method=saved),
            Actor("provider", self.code),
            preloaded=(invoice, records.purchases),
        )
        payment = {"provider": self.code, "status": "captured", "reference": reference_}
        return PaymentStart(
            200,
            "Payment successful",
            payment,
            result.invoice,
            extra={"items_activated": result.items_activated},
            credit_notes=result.credit_notes,
        )

    def _authorize(self, invoice: InvoiceItem, principal: Principal) -> PaymentStart:
        now = clock.now()
        intent = f"sandbox_auth_{new_id()}"
        invoice.status = "AUTHORIZED"
        invoice.payment_intent_id = intent
        invoice.payment_method = self.code
        invoice.updated_at = now
        places = Currencies.of(reference().currencies).places(invoice.currency)
        amount = format_money(invoice.total_amount, places)
        actor = Actor("provider", self.code)
        tx = Transaction().put(invoice, label="InvoiceItem")
        tx.events += [
            Event(
                InvoiceAuthorized(
                    invoice.id, invoice.invoice_number, invoice.user_id, amount, invoice.currency, intent, self.code
                ),
                actor,
                occurred_at=now,
            ),
            Event(PaymentAuthorized(invoice.id, intent, amount, invoice.currency, self.code), actor, occurred_at=now),
        ]
        tx.commit()
        payment = {"provider": self.code, "status": "authorized", "reference": intent}
        return PaymentStart(200, "Payment authorized", payment, invoice)

    def _decline(self, invoice: InvoiceItem, principal: Principal) -> PaymentStart:
        now = clock.now()
        invoice.payment_attempts = int(invoice.payment_attempts or 0) + 1
        invoice.last_payment_error = DECLINE_CODE
        invoice.updated_at = now
        tx = Transaction().put(invoice, label="InvoiceItem")
        tx.events.append(
            Event(
                InvoicePaymentFailed(
                    invoice.id,
                    invoice.invoice_number,
                    invoice.user_id,
                    self.code,
                    DECLINE_CODE,
                    "The sandbox declined the card",
                    int(invoice.payment_attempts),
                ),
                Actor("provider", self.code),
                occurred_at=now,
            )
        )
        tx.commit()
        payment = {"provider": self.code, "status": "failed", "error_code": DECLINE_CODE}
        return PaymentStart(402, "Payment failed", payment, invoice, error="Payment failed")

    def refund(self, invoice: InvoiceItem, amount: Decimal) -> str | None:
        return f"sandbox_refund_{new_id()}"  # the sandbox gives money back at once
