"""E-mail addresses as accounts hold them (contract auth.md §2.4): trimmed and lower-cased, at most 255 characters.

Pure functions (no storage), so the request models can use them without loading the store on a cold start.
"""

from __future__ import annotations

# The longest address registration accepts. No account has a longer one, so a longer input is answered without a
# read — it would not even fit a DynamoDB key (2,048 bytes).
MAX_EMAIL_LENGTH = 255


def normalize_email(email: str) -> str:
    return email.strip().lower()


def could_be_registered(email: str) -> bool:
    """Whether an account could have this (normalized) address at all."""
    return 0 < len(email) <= MAX_EMAIL_LENGTH
