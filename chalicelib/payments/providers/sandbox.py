"""The sandbox provider (contract checkout-and-payments.md §10.2): instant test payments, local and dev only.

`succeed` takes the money at once (saving a sandbox method on recurring purchases, so renewals can charge it
later); `authorize` holds it for a later capture; `fail` declines like a card would. The provider only reports
what happened; the payments service captures, authorizes or records the attempt.

Off-session charges of a saved sandbox method (renewals, trial conversion, dunning retries, upgrades) answer as
the charged user chose with `PUT /plugins/sandbox/outcome`, and — like a real provider — remember their answer
per idempotency key: asked again with the same key, the sandbox answers what it answered the first time and takes
no money twice.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from chalicelib.core import clock
from chalicelib.core.ids import new_id
from chalicelib.payments.outcomes import (
    Payment,
    PaymentKind,
    ProviderRefundFailed,
    ProviderStart,
    RefundKeyInUse,
    SavedMethodCharge,
)

if TYPE_CHECKING:
    from chalicelib.invoices.models import InvoiceItem
    from chalicelib.invoices.repository import InvoiceRecords
    from chalicelib.payments.models import SandboxChargeItem
    from chalicelib.payments.schemas import PayBody

DECLINE_CODE = "card_declined"
DECLINE_MESSAGE = "The sandbox declined the card"
REFUND_ATTEMPTS = 5  # a refund of the same invoice racing ours moved its total: read again


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

    def refund(self, invoice: InvoiceItem, amount: Decimal, key: str) -> str | None:
        """Give money back at once, once per idempotency key, never more of a capture than it took: the invoice's
        refunds (`<invoice id>:refund:<n>`) count against its total, an orphaned second payment's against its own."""
        from chalicelib.payments import repository

        capture_id = invoice.id if key.startswith(f"{invoice.id}:refund:") else key
        for _ in range(REFUND_ATTEMPTS):
            # The total first, then the key: a key absent after the total was read was not in that total either.
            refunded = repository.sandbox_refunded(capture_id)
            done = repository.sandbox_refund(key)
            if done is not None:
                if done.amount != amount or done.invoice_id != capture_id:
                    raise RefundKeyInUse(key)
                return str(done.reference)
            if refunded is not None and refunded.refunded + amount > invoice.total_amount:
                raise ProviderRefundFailed("Refund exceeds the captured amount")
            reference_ = f"sandbox_refund_{new_id()}"
            if repository.remember_sandbox_refund(
                key, capture_id, amount, invoice.total_amount, reference_, clock.now()
            ):
                return reference_
        raise RefundKeyInUse(key)  # the capture's refunded total kept moving under us

    def capture_authorized(self, invoice: InvoiceItem) -> Payment:
        """The sandbox holds nothing real: the authorization's intent id becomes the capture's reference."""
        intent = str(invoice.payment_intent_id)
        return Payment(self.code, intent, transaction_id=intent)

    def release(self, invoice: InvoiceItem) -> None:
        return None  # nothing held to let go of

    def charge_saved(
        self, invoice: InvoiceItem, saved_method: dict[str, Any], idempotency_key: str
    ) -> SavedMethodCharge:
        """Charge the saved sandbox method off-session: the user's chosen outcome, once per idempotency key."""
        from chalicelib.payments import repository

        answer = repository.sandbox_answer(idempotency_key)
        if answer is None:
            now = clock.now()
            if repository.sandbox_outcome(invoice.user_id) == "fail":
                answer = repository.remember_sandbox_answer(
                    idempotency_key, now, error_code=DECLINE_CODE, error_message=DECLINE_MESSAGE
                )
            else:
                answer = repository.remember_sandbox_answer(
                    idempotency_key, now, reference=f"sandbox_{new_id()}", saved_method=saved_method
                )
        return _charge(answer)


def _charge(answer: SandboxChargeItem) -> SavedMethodCharge:
    if answer.succeeded and answer.reference:
        payment = Payment(
            "sandbox", answer.reference, transaction_id=answer.reference, saved_method=answer.saved_method
        )
        return SavedMethodCharge.captured(payment)
    return SavedMethodCharge.declined(answer.error_code or DECLINE_CODE, answer.error_message or DECLINE_MESSAGE)
