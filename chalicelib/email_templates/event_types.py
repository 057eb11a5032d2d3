"""The event types the `mail` consumer sends an e-mail for, their declared variables and their built-in templates.

Each event type declares the variables a template of it may use — the event's `data` keys (contract events.md §2),
each with a description and the example that previews and test sends fill in — and a built-in default template,
written in the same sandboxed language as the stored ones (`chalicelib.email_templates.sandbox`). The default is
what is sent while no active stored template exists for the event type (admin.md §20). Plain data: importing this
module costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.email_templates.sandbox import Parts

Variables = dict[str, tuple[str, str]]  # name → (description, example)

_SUBSCRIPTION: Variables = {
    "subscription_id": ("The subscription", "8a3c1f7e-2b4d-4e6f-9a1b-3c5d7e9f1a2b"),
    "user_id": ("The subscriber", "5f2a9c3e-7b1d-4c8e-a6f0-2d4b6c8e0a1f"),
    "plan_id": ("The plan", "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f"),
    "plan_slug": ("The plan's slug", "basic"),
    "plan_name": ("The plan's name", "Basic"),
    "status": ("The subscription's status after the event", "ACTIVE"),
}


@dataclass(frozen=True)
class EventType:
    event_type: str
    description: str
    variables: Variables
    default: Parts

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self.variables)

    def examples(self) -> dict[str, str]:
        return {name: example for name, (_, example) in self.variables.items()}


def _text(subject: str, text_body: str) -> Parts:
    return Parts(subject=subject, html_body="", text_body=text_body)


EVENT_TYPES: dict[str, EventType] = {
    e.event_type: e
    for e in (
        EventType(
            "user.registered",
            "Welcome mail after registration or an admin-created account",
            {
                "user_id": ("The new account", "5f2a9c3e-7b1d-4c8e-a6f0-2d4b6c8e0a1f"),
                "email": ("The account's e-mail address", "ada@example.com"),
                "source": ("Who created the account: self or admin", "self"),
            },
            _text(
                "Welcome to VBWD",
                "Hello,\n\nyour account {{ email }} is ready. You can log in and choose a plan at any time.\n",
            ),
        ),
        EventType(
            "user.password_reset_requested",
            "The password reset link (forgot-password)",
            {
                "user_id": ("The account", "5f2a9c3e-7b1d-4c8e-a6f0-2d4b6c8e0a1f"),
                "email": ("The account's e-mail address", "ada@example.com"),
                "reset_url": ("The one-time reset link", "https://app.example.com/reset-password?token=example"),
                "expires_at": ("When the link stops working (UTC)", "2026-05-01T10:00:00Z"),
            },
            _text(
                "Reset your password",
                "Hello,\n\nsomeone asked to reset the password of this account. If it was you, open this link within "
                "one hour:\n\n{{ reset_url }}\n\nIf it was not you, ignore this message; your password stays as it "
                "is.\n",
            ),
        ),
        EventType(
            "user.password_changed",
            "Security notice: the password was changed",
            {
                "user_id": ("The account", "5f2a9c3e-7b1d-4c8e-a6f0-2d4b6c8e0a1f"),
                "via": ("How: change, reset or admin", "change"),
            },
            _text(
                "Your password was changed",
                "Hello,\n\nthe password of your account was "
                "{% if via == 'change' %}changed from your account settings"
                "{% elif via == 'reset' %}reset with an e-mailed link"
                "{% else %}changed by an administrator{% endif %}"
                ". If this was not you, reset it now and contact us.\n",
            ),
        ),
        EventType(
            "auth.locked",
            "Security notice: sign-ins paused after repeated failures",
            {
                "email": ("The account's e-mail address", "ada@example.com"),
                "until": ("When sign-ins are possible again (UTC)", "2026-05-01T09:15:00Z"),
            },
            _text(
                "Too many failed sign-in attempts",
                "Hello,\n\nafter repeated failed sign-in attempts, logins to your account are paused until "
                "{{ until }}. If these attempts were not yours, consider changing your password.\n",
            ),
        ),
        EventType(
            "auth.refresh_reuse_detected",
            "Security notice: a session was ended because an old token was used again",
            {
                "user_id": ("The account", "5f2a9c3e-7b1d-4c8e-a6f0-2d4b6c8e0a1f"),
                "family_id": ("The ended session", "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e"),
                "ip": ("Where the old token came from", "203.0.113.7"),
            },
            _text(
                "A session of yours was ended for safety",
                "Hello,\n\nan old sign-in token of your account was used again, which can mean it was copied. We "
                "ended that session; sign in again on your devices. If you did not expect this, change your "
                "password.\n",
            ),
        ),
        EventType(
            "invoice.paid",
            "Receipt for a paid invoice (the invoice PDF is attached)",
            {
                "invoice_id": ("The invoice", "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b"),
                "invoice_number": ("The invoice number", "INV-2026-000042"),
                "user_id": ("The buyer", "5f2a9c3e-7b1d-4c8e-a6f0-2d4b6c8e0a1f"),
                "user_email": ("The buyer's e-mail address", "ada@example.com"),
                "user_name": ("The buyer's name", "Ada Lovelace"),
                "amount": ("The amount paid, in the currency's places", "29.99"),
                "currency": ("ISO 4217 code", "EUR"),
                "paid_at": ("When it was paid (UTC)", "2026-05-01T09:00:01Z"),
                "paid_date": ("The day it was paid (YYYY-MM-DD)", "2026-05-01"),
                "payment_reference": ("The provider's reference", "pi_3Example"),
                "provider": ("The payment provider", "sandbox"),
                "invoice_url": ("The invoice's page", "/invoices/9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b"),
            },
            _text(
                "Receipt for invoice {{ invoice_number }}",
                "Hello {{ user_name }},\n\nthank you for your payment of {{ amount }} {{ currency }} on "
                "{{ paid_date }} (reference {{ payment_reference }}). Invoice {{ invoice_number }} is paid; the "
                "document is attached.\n",
            ),
        ),
        EventType(
            "invoice.created",
            "A new invoice to pay: renewals, upgrades and bank transfers (the invoice PDF is attached)",
            {
                "invoice_id": ("The invoice", "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b"),
                "invoice_number": ("The invoice number", "INV-2026-000042"),
                "user_id": ("The buyer", "5f2a9c3e-7b1d-4c8e-a6f0-2d4b6c8e0a1f"),
                "billing_reason": ("Why it was issued: RENEWAL, UPGRADE, SUBSCRIPTION_CREATE…", "RENEWAL"),
                "subscription_id": ("The subscription it bills, if any", "8a3c1f7e-2b4d-4e6f-9a1b-3c5d7e9f1a2b"),
                "currency": ("ISO 4217 code", "EUR"),
                "total_amount": ("The total, in the currency's places", "29.99"),
                "due_date": ("When it is due (UTC), if it has a due date", "2026-05-15T00:00:00Z"),
            },
            _text(
                "Invoice {{ invoice_number }}",
                "Hello,\n\ninvoice {{ invoice_number }} over {{ total_amount }} {{ currency }} is attached"
                "{% if due_date %} and due on {{ due_date[:10] }}{% endif %}"
                ". Please quote the invoice number with your transfer.\n",
            ),
        ),
        EventType(
            "subscription.trial_will_end",
            "The trial ends soon: the pay link of the first invoice",
            {
                **_SUBSCRIPTION,
                "trial_end_at": ("When the trial ends (UTC)", "2026-05-15T09:00:00Z"),
                "invoice_id": ("The first invoice, to pay now", "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b"),
            },
            _text(
                "Your {{ plan_name or 'trial' }} trial ends soon",
                "Hello,\n\nyour trial of {{ plan_name or 'your plan' }} ends on {{ trial_end_at[:10] }}. To keep it "
                "without a gap, pay the first invoice now — the remaining trial days are kept:\n\n"
                "{% if invoice_id %}/invoices/{{ invoice_id }}{% else %}/subscriptions{% endif %}\n",
            ),
        ),
        EventType(
            "subscription.payment_failed",
            "Dunning: a renewal could not be collected",
            {
                **_SUBSCRIPTION,
                "invoice_id": ("The unpaid renewal invoice", "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b"),
                "attempt": ("Which attempt failed (1, 2, …)", "1"),
                "next_retry_at": ("When the next attempt is made (UTC); empty after the last", "2026-06-02T09:00:00Z"),
                "error_message": ("The provider's reason", "Your card was declined."),
            },
            _text(
                "Payment for {{ plan_name or 'your subscription' }} did not go through",
                "Hello,\n\nwe could not collect the renewal of {{ plan_name or 'your subscription' }} "
                "(attempt {{ attempt }}: {{ error_message or 'declined' }}). Your access continues for now. "
                "{% if next_retry_at %}We will try again on {{ next_retry_at[:10] }}."
                "{% else %}This was the last attempt; the subscription ends unless the invoice is paid.{% endif %}"
                " You can pay the invoice at any time:\n\n/invoices/{{ invoice_id }}\n",
            ),
        ),
        EventType(
            "subscription.expired",
            "The subscription has ended",
            {
                **_SUBSCRIPTION,
                "status": ("The subscription's status after the event", "EXPIRED"),
                "reason": ("Why: trial_unpaid, dunning_exhausted or period_end", "period_end"),
            },
            _text(
                "Your {% if plan_name %}{{ plan_name }} {% endif %}subscription has ended",
                "Hello,\n\nyour subscription to {{ plan_name or 'your plan' }} has ended because "
                "{% if reason == 'trial_unpaid' %}its trial ended without a payment"
                "{% elif reason == 'dunning_exhausted' %}its renewal could not be collected"
                "{% elif reason == 'period_end' %}its last period ended"
                "{% else %}it ended{% endif %}. You can subscribe again at any time.\n",
            ),
        ),
        EventType(
            "refund.reversed",
            "A refund of the buyer's invoice was cancelled at the payment provider",
            {
                "invoice_id": ("The invoice", "7c9e6679-7425-40de-944b-e07fc1f90ae7"),
                "credit_note_id": ("The credit note now reversed", "9b2e4f6a-1c3d-4e5f-8a7b-6c5d4e3f2a1b"),
                "provider": ("The payment provider", "stripe"),
            },
            _text(
                "A refund of your invoice was cancelled",
                "Hello,\n\nthe refund of your invoice was cancelled by {{ provider }}, so the payment stands and "
                "what it paid for is yours again.\n",
            ),
        ),
        EventType(
            "payment.disputed",
            "A buyer disputed a payment at the provider (to the contact e-mail)",
            {
                "invoice_id": ("The invoice", "7c9e6679-7425-40de-944b-e07fc1f90ae7"),
                "provider": ("The payment provider", "stripe"),
                "dispute_id": ("The provider's dispute", "dp_1Q2w3E4r5T6y"),
                "amount": ("The disputed amount", "11.89"),
                "currency": ("Its currency", "EUR"),
                "reason": ("The provider's reason", "fraudulent"),
            },
            _text(
                "Payment disputed: {{ amount }} {{ currency }}",
                "A payment of {{ amount }} {{ currency }} for invoice {{ invoice_id }} was disputed at {{ provider }} "
                "(dispute {{ dispute_id }}, reason: {{ reason }}). Answer it in the provider's dashboard.\n",
            ),
        ),
        EventType(
            "payment.orphaned",
            "Money arrived for an invoice that could not take it (to the contact e-mail)",
            {
                "invoice_id": ("The invoice", "7c9e6679-7425-40de-944b-e07fc1f90ae7"),
                "provider": ("The payment provider", "paypal"),
                "payment_reference": ("The provider's reference of the payment", "9XK12345AB678901C"),
                "amount": ("The amount", "11.89"),
                "currency": ("Its currency", "EUR"),
                "refunded": ("Whether it was given back automatically", "true"),
            },
            _text(
                "Payment for a closed invoice: {{ amount }} {{ currency }}",
                "{{ provider }} took {{ amount }} {{ currency }} (reference {{ payment_reference }}) for invoice "
                "{{ invoice_id }}, which was already paid or closed. Refunded automatically: {{ refunded }}.\n",
            ),
        ),
        EventType(
            "payment.amount_mismatch",
            "A provider reported a payment of another amount than the invoice's (to the contact e-mail)",
            {
                "invoice_id": ("The invoice", "7c9e6679-7425-40de-944b-e07fc1f90ae7"),
                "provider": ("The payment provider", "yookassa"),
                "payment_reference": (
                    "The provider's reference of the payment",
                    "2d4f6a8c-000f-5000-9000-1b3d5f7a9c0e",
                ),
                "expected": ("The invoice's total", "11.89"),
                "received": ("The amount the provider reported", "1.89"),
                "currency": ("The currency", "EUR"),
            },
            _text(
                "Payment amount mismatch on invoice {{ invoice_id }}",
                "{{ provider }} reported {{ received }} {{ currency }} (reference {{ payment_reference }}) for invoice "
                "{{ invoice_id }}, whose total is {{ expected }} {{ currency }}. The invoice was not marked paid.\n",
            ),
        ),
    )
}


def event_type(name: str) -> EventType | None:
    return EVENT_TYPES.get(name)
