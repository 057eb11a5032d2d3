"""Token balances and their immutable ledger in the `ledger` table (one partition per user).

A credit or debit is one transaction: the balance item written on the condition of its version (a debit also needs
`balance >= amount`, checked on the balance read under that version) plus new entry items numbered from the
balance's entry count. The balance therefore always equals the sum of the entries and never goes negative.
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute, VersionAttribute

from chalicelib.store.base import LedgerTable


class TokenBalanceItem(LedgerTable, discriminator="BALANCE"):
    """pk `USER#<id>`, sk `BALANCE`: the balance and how many entries the ledger holds."""

    user_id = UnicodeAttribute()
    balance = NumberAttribute(default=0)
    entries = NumberAttribute(default=0)
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()

    @classmethod
    def key(cls, user_id: str) -> tuple[str, str]:
        return f"USER#{user_id}", "BALANCE"


class TokenEntryItem(LedgerTable, discriminator="ENTRY"):
    """pk `USER#<id>`, sk `ENTRY#<sequence, 12 digits>`: the n-th change of the balance (newest = reverse Query)."""

    id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    sequence = NumberAttribute()
    amount = NumberAttribute()
    transaction_type = UnicodeAttribute()
    reference_id = UnicodeAttribute(null=True)
    reference = UnicodeAttribute(null=True)
    description = UnicodeAttribute(null=True)
    balance_after = NumberAttribute()
    shortfall = NumberAttribute(default=0)
    created_at = UTCDateTimeAttribute()

    @classmethod
    def sort_key(cls, sequence: int) -> str:
        return f"ENTRY#{sequence:012d}"


class ConsumptionReferenceItem(LedgerTable, discriminator="REFERENCE"):
    """pk `USER#<id>`, sk `REF#<client reference>`: a consumption happens once per reference."""

    entry_id = UnicodeAttribute()
    entry_sort_key = UnicodeAttribute()
    amount = NumberAttribute()

    @classmethod
    def key(cls, user_id: str, reference: str) -> tuple[str, str]:
        return f"USER#{user_id}", f"REF#{reference}"
