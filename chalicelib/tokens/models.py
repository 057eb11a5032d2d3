"""Token balances and their immutable ledger in the `ledger` table (one partition per user).

A credit or debit is one transaction: the balance item updated on the condition of its current value (debits
also `balance >= amount`) plus a new entry item. The balance therefore always equals the sum of the entries.
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from chalicelib.core.times import iso
from chalicelib.store.base import LedgerTable


class TokenBalanceItem(LedgerTable, discriminator="BALANCE"):
    """pk `USER#<id>`, sk `BALANCE`."""

    user_id = UnicodeAttribute()
    balance = NumberAttribute(default=0)
    entries = NumberAttribute(default=0)
    updated_at = UTCDateTimeAttribute()

    @classmethod
    def key(cls, user_id: str) -> tuple[str, str]:
        return f"USER#{user_id}", "BALANCE"


class TokenEntryItem(LedgerTable, discriminator="ENTRY"):
    """pk `USER#<id>`, sk `ENTRY#<created_at>#<id>`: newest-first listing is a reverse Query of the partition."""

    id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    amount = NumberAttribute()
    transaction_type = UnicodeAttribute()
    reference_id = UnicodeAttribute(null=True)
    reference = UnicodeAttribute(null=True)
    description = UnicodeAttribute(null=True)
    balance_after = NumberAttribute()
    shortfall = NumberAttribute(default=0)
    created_at = UTCDateTimeAttribute()

    @classmethod
    def sort_key(cls, created_at: object, entry_id: str) -> str:
        return f"ENTRY#{iso(created_at)}#{entry_id}"  # type: ignore[arg-type]
