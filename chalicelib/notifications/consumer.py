"""The `mail` consumer: turns events into e-mails (contract events.md §2, consumer `mail`).

Which events mail whom, with which attachments, is here; what a mail says is its event type's e-mail template
(admin.md §20: the stored active one, else the built-in default — `chalicelib.email_templates.service.compose`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib.core.logging import logger
from chalicelib.notifications.mail import Attachment, send_email


def _given_email(data: dict[str, Any]) -> str | None:
    return str(data["email"]) if data.get("email") else None


def _account_of_user(data: dict[str, Any]) -> str | None:
    from chalicelib.users.repository import find_user

    user = find_user(str(data.get("user_id", "")))
    return user.email if user else None


def _account_of_email(data: dict[str, Any]) -> str | None:
    """auth.locked names an e-mail that may belong to no account; only real accounts are told."""
    from chalicelib.users.repository import find_user_by_email

    user = find_user_by_email(str(data.get("email", "")))
    return user.email if user else None


def _account_of_invoice(data: dict[str, Any]) -> str | None:
    """The owner of the event's invoice (events that name the invoice only)."""
    from chalicelib.invoices.repository import invoice_records

    records = invoice_records(str(data.get("invoice_id", "")))
    return _account_of_user({"user_id": records.invoice.user_id}) if records else None


def _operator(data: dict[str, Any]) -> str | None:
    """The business's `contact_email` setting: where money that needs a person's eyes is reported."""
    from chalicelib.catalog.repository import reference

    address = str(reference().settings.get("contact_email") or "")
    return address or None


def _invoice_pdf(data: dict[str, Any]) -> list[Attachment]:
    """The invoice document, as it stands when the mail goes out."""
    from chalicelib.catalog.pricing import Currencies
    from chalicelib.catalog.repository import reference
    from chalicelib.invoices.pdf import render_invoice
    from chalicelib.invoices.repository import invoice_records

    records = invoice_records(str(data["invoice_id"]))
    if records is None:
        return []
    ref = reference()
    places = Currencies.of(ref.currencies).places(records.invoice.currency)
    document = render_invoice(records.invoice, records.credit_notes, ref.settings, places)
    filename = f"invoice-{records.invoice.invoice_number}.pdf"
    return [Attachment(filename, "application/pdf", document)]


def _wants_invoice_mail(data: dict[str, Any]) -> bool:
    """invoice.created mails renewals, upgrades and bank-transfer invoices (events.md §2.2)."""
    if data.get("billing_reason") in ("RENEWAL", "UPGRADE"):
        return True
    from chalicelib.invoices.repository import invoice_records

    records = invoice_records(str(data["invoice_id"]))
    return records is not None and records.invoice.payment_method == "invoice" and records.invoice.status == "PENDING"


@dataclass(frozen=True)
class Mail:
    template_name: str  # the notification log's name of the mail
    recipient: Callable[[dict[str, Any]], str | None]
    attachments: Callable[[dict[str, Any]], list[Attachment]] | None = None
    wanted: Callable[[dict[str, Any]], bool] | None = None


MAILS: dict[str, Mail] = {
    "user.registered": Mail("welcome", _given_email),
    "user.password_reset_requested": Mail("password_reset", _given_email),
    "user.password_changed": Mail("password_changed", _account_of_user),
    "auth.locked": Mail("account_locked", _account_of_email),
    "auth.refresh_reuse_detected": Mail("session_reuse", _account_of_user),
    "invoice.paid": Mail("receipt", lambda data: str(data["user_email"]), _invoice_pdf),
    "invoice.created": Mail("invoice", _account_of_user, _invoice_pdf, _wants_invoice_mail),
    # The lifecycle (subscriptions.md §6, §7): the trial's pay link, dunning, the end.
    "subscription.trial_will_end": Mail("trial_will_end", _account_of_user),
    "subscription.payment_failed": Mail("payment_failed", _account_of_user),
    "subscription.expired": Mail("subscription_expired", _account_of_user),
    # The providers (checkout-and-payments.md §6.2, §7.4, §10): the buyer's restored payment, the operator's alerts.
    "refund.reversed": Mail("refund_reversed", _account_of_invoice),
    "payment.disputed": Mail("payment_disputed", _operator),
    "payment.orphaned": Mail("payment_orphaned", _operator),
    "payment.amount_mismatch": Mail("payment_amount_mismatch", _operator),
}


def handle_event(envelope: dict[str, Any]) -> None:
    mail = MAILS[envelope["type"]]
    data = envelope.get("data") or {}
    if mail.wanted is not None and not mail.wanted(data):
        return
    recipient = mail.recipient(data)
    if recipient is None:
        logger.info("mail skipped: no recipient", event_type=envelope["type"], event_id=envelope.get("id"))
        return
    from chalicelib.email_templates.service import compose

    rendered = compose(envelope["type"], data)
    attachments = mail.attachments(data) if mail.attachments else None
    send_email(
        recipient,
        rendered.subject,
        rendered.text_body,
        mail.template_name,
        attachments,
        html_body=rendered.html_body or None,
    )
