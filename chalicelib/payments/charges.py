"""Off-session charges of a saved payment method (contract checkout-and-payments.md §10.7).

Renewals, trial conversions and dunning retries (the lifecycle job) and upgrades with a saved method (the upgrade
route) all charge through `charge_off_session`. One attempt runs like this:

1. **The invoice's pay lock** (the one a user's `POST /pay` takes): a pay of the same invoice, or another charge of
   it, never runs at the same moment — the second one is told `Busy` and tries again later.
2. **The claim**, under the lock, on a fresh read of the invoice: the next attempt is counted on the invoice
   (`payment_attempts`, version-conditional) and its record claimed (`attribute_not_exists`) in one transaction that
   also requires the holder — the subscription or add-on subscription the caller decided on — to be unchanged. A
   decision taken on a stale read claims nothing: the refusal (`TransactionCancelled`) reaches the caller, who
   reads again and decides again. An attempt still claimed from a charger that crashed after its claim is not
   counted again: the provider is asked again with the same key, and answers what it answered the first time.
3. **The provider** charges with the idempotency key `<invoice id>:<attempt>`.
4. **The outcome**, in one transaction each: a success is captured (checkout-and-payments.md §6 — the activation
   renews, converts or upgrades) with the attempt closed; a decline is recorded on the invoice (`last_payment_error`,
   `invoice.payment_failed`) with the attempt closed and whatever the caller's `on_decline` adds (dunning). A success
   for an invoice someone else captured meanwhile (an admin's mark-paid, a webhook) is an orphaned payment: it is
   refunded through the provider at once.

Two overlapping chargers of one invoice therefore never charge one attempt twice, and a crash after the provider
took the money is recovered by the next charge, which asks again with the same key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chalicelib.catalog.repository import reference
from chalicelib.core import clock
from chalicelib.core.logging import logger
from chalicelib.events.catalog import InvoicePaymentFailed
from chalicelib.events.envelope import Actor, Event
from chalicelib.invoices import repository as invoice_store
from chalicelib.invoices.models import InvoiceItem
from chalicelib.payments import repository
from chalicelib.payments.capture import CaptureResult, NotCapturable, capture
from chalicelib.payments.methods import usable
from chalicelib.payments.outcomes import SavedMethodCharge
from chalicelib.payments.providers import provider, refund_orphan
from chalicelib.store.retry import retrying
from chalicelib.store.transactions import Transaction, TransactionCancelled
from chalicelib.subscriptions import repository as subscription_store

if TYPE_CHECKING:
    from chalicelib.payments.models import ChargeAttemptItem
    from chalicelib.subscriptions.models import AddonSubscriptionItem, SubscriptionItem

    Holder = SubscriptionItem | AddonSubscriptionItem

UNAVAILABLE = ("payment_method_unavailable", "The saved payment method can no longer be charged")
WRITE_ATTEMPTS = 8


@dataclass(frozen=True)
class Charged:
    """The provider took the money and the invoice is captured."""

    capture: CaptureResult
    attempt: int


@dataclass(frozen=True)
class Declined:
    """The provider refused; the failure is recorded on the invoice, which stays PENDING."""

    attempt: int
    code: str
    message: str


@dataclass(frozen=True)
class Busy:
    """Another payment of this invoice holds its pay lock: nothing was charged; try again later."""


@dataclass(frozen=True)
class NotOpen:
    """The invoice is no longer payable (paid, voided or failed by someone else): nothing was charged."""

    invoice: InvoiceItem | None


ChargeResult = Charged | Declined | Busy | NotOpen
# Adds the caller's consequences of a decline (dunning) to the transaction that records it. It is called again
# on a fresh invoice when that transaction lost a race, so it reads what it changes itself. It may change the
# invoice object (its status), which is written after it — never write the invoice in the hook.
DeclineHook = Callable[[Transaction, InvoiceItem, Declined], None]


def charge_off_session(
    invoice_id: str, holder: Holder, *, actor: Actor, on_decline: DeclineHook | None = None
) -> ChargeResult:
    """Charge the holder's saved method for the invoice, once per attempt (see the module's docstring)."""
    method = holder.saved_payment_method
    if not method:
        raise ValueError(f"{holder.sk} has no saved payment method to charge")
    now = clock.now()
    lock = repository.take_pay_lock(invoice_id, now)
    if lock is None:
        return Busy()
    try:
        claimed = _claim(invoice_id, holder, str(method.get("provider") or ""), now)
        if not isinstance(claimed, tuple):
            return claimed
        invoice, record = claimed
        answer = _ask(invoice, record, method)
        if answer.succeeded:
            return _capture(invoice, record, answer, actor)
        code, message = answer.error_code or "declined", answer.error_message or "The payment was declined"
        return _decline(invoice_id, record, Declined(int(record.attempt), code, message), actor, on_decline)
    finally:
        repository.release_pay_lock(lock)


def _claim(
    invoice_id: str, holder: Holder, provider_code: str, now: Any
) -> tuple[InvoiceItem, ChargeAttemptItem] | NotOpen:
    def step() -> tuple[InvoiceItem, ChargeAttemptItem] | NotOpen:
        records = invoice_store.invoice_records(invoice_id)
        if records is None or records.invoice.status != "PENDING":
            return NotOpen(records.invoice if records else None)
        # An attempt record is only ever claimed together with the invoice's count of attempts (one transaction), so
        # an invoice that counts none has none left open: a first charge skips the search.
        counted = int(records.invoice.payment_attempts or 0) > 0
        open_attempt = repository.open_attempt(invoice_id) if counted else None
        if open_attempt is not None:
            logger.warning("asking again for a charge attempt left open", key=open_attempt.idempotency_key)
            return records.invoice, open_attempt
        tx = Transaction()
        record = repository.claim_attempt(tx, records.invoice, provider_code, now)
        subscription_store.expect_unchanged(tx, holder)
        tx.commit()
        return records.invoice, record

    def invoice_changed(exc: TransactionCancelled) -> bool:
        """The invoice moved on (a webhook, an admin): read it again. A changed holder is the caller's to re-read."""
        return not any(label.startswith(subscription_store.UNCHANGED) for label in exc.failed)

    return retrying(step, tries=WRITE_ATTEMPTS, retry_on=invoice_changed)


def _ask(invoice: InvoiceItem, record: ChargeAttemptItem, method: dict[str, Any]) -> SavedMethodCharge:
    """The provider's answer, or a decline without asking when the method can no longer take this money (its
    provider disabled here, the amount outside its bounds)."""
    code = str(record.provider)
    country = (invoice.billing_address or {}).get("country") if invoice.billing_address else None
    if usable(reference(), code, invoice.currency, country, invoice.total_amount) is None:
        return SavedMethodCharge.declined(*UNAVAILABLE)
    return provider(code).charge_saved(invoice, method, record.idempotency_key)


def _capture(invoice: InvoiceItem, record: ChargeAttemptItem, answer: SavedMethodCharge, actor: Actor) -> ChargeResult:
    payment = answer.payment
    assert payment is not None
    now = clock.now()

    def close(tx: Transaction, result: CaptureResult) -> None:
        repository.close_attempt(tx, record, "CAPTURED", now, reference=payment.reference)

    try:
        result = capture(invoice.id, payment, actor, extra=close)
    except NotCapturable as exc:
        # Captured by someone else while the provider was charging: give this money back at once.
        refunded = refund_orphan(payment, exc.invoice, exc.invoice.total_amount, f"{record.idempotency_key}:orphaned")
        logger.warning(
            "orphaned off-session payment refunded",
            invoice_id=invoice.id,
            payment_reference=payment.reference,
            refund_reference=refunded,
        )
        tx = Transaction()
        repository.close_attempt(tx, record, "ORPHANED", now, reference=payment.reference)
        tx.commit()
        return NotOpen(exc.invoice)
    return Charged(result, int(record.attempt))


def _decline(
    invoice_id: str, record: ChargeAttemptItem, declined: Declined, actor: Actor, on_decline: DeclineHook | None
) -> ChargeResult:
    now = clock.now()

    def write() -> ChargeResult:
        records = invoice_store.invoice_records(invoice_id)
        tx = Transaction()
        invoice = records.invoice if records is not None else None
        payable = invoice is not None and invoice.status == "PENDING"
        if invoice is not None and payable:
            invoice.last_payment_error = declined.code
            invoice.updated_at = now
            failed = InvoicePaymentFailed(
                invoice.id,
                invoice.invoice_number,
                invoice.user_id,
                str(record.provider),
                declined.code,
                declined.message,
                declined.attempt,
            )
            tx.events.append(Event(failed, actor, occurred_at=now))
            if on_decline is not None:
                on_decline(tx, invoice, declined)
            invoice_store.update_invoice(tx, invoice)
        repository.close_attempt(tx, record, "DECLINED", now, error_code=declined.code)
        tx.commit()
        return declined if payable else NotOpen(invoice)  # paid or voided meanwhile: nothing to record on it

    return retrying(write, tries=WRITE_ATTEMPTS)
