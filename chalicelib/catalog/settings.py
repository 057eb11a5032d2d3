"""Admin settings keys and defaults (contract admin.md §14)."""

from __future__ import annotations

from typing import Any

DEFAULT_TERMS = (
    "# Terms and Conditions\n\n"
    "These terms govern the use of the VBWD demo service. Subscriptions renew at the end of each billing period "
    "until cancelled; cancellations take effect at the end of the paid period. Invoices are due within the "
    "number of days shown on them. Token balances are not refundable except as part of a refunded purchase.\n"
)

DEFAULTS: dict[str, Any] = {
    "provider_name": "",
    "contact_email": "",
    "website_url": "",
    "other_links": "",
    "address_street": "",
    "address_city": "",
    "address_postal_code": "",
    "address_country": "",
    "bank_name": "",
    "bank_iban": "",
    "bank_bic": "",
    "terms_title": "Terms and Conditions",
    "terms_content": DEFAULT_TERMS,
    "invoice_prefix": "INV",
    "credit_note_prefix": "CN",
    "invoice_due_days": 30,
    "default_language": "en",
}


def with_defaults(values: dict[str, Any]) -> dict[str, Any]:
    merged = dict(DEFAULTS)
    merged.update({key: value for key, value in values.items() if key in DEFAULTS})
    return merged
