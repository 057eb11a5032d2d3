"""JSON shape of a token transaction (contract subscriptions.md §2.5)."""

from __future__ import annotations

from typing import Any

from chalicelib.core.times import iso
from chalicelib.tokens.models import TokenEntryItem


def transaction(entry: TokenEntryItem) -> dict[str, Any]:
    return {
        "id": entry.id,
        "user_id": entry.user_id,
        "amount": int(entry.amount),
        "transaction_type": entry.transaction_type,
        "reference_id": entry.reference_id,
        "reference": entry.reference,
        "description": entry.description,
        "balance_after": int(entry.balance_after),
        "created_at": iso(entry.created_at),
    }
