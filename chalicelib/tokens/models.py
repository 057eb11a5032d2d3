"""Token balances and their immutable ledger in the `ledger` table (one partition per user).

A credit or debit is one transaction: the balance item written on the condition of its version (a debit also needs
`balance >= amount`, checked on the balance read under that version) plus new entry items numbered from the
balance's entry count. The balance therefore always equals the sum of the entries and never goes negative. The
balance also counts its entries per type, so a filtered list knows its total without reading the entries.
"""

from __future__ import annotations

from datetime import datetime

from pynamodb.attributes import (
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)

from chalicelib.store.base import LedgerTable


def _partition(user_id: str) -> str:
    return f"USER#{user_id}"


class TokenBalanceItem(LedgerTable, discriminator="BALANCE"):
    """pk `USER#<id>`, sk `BALANCE`: the balance, how many entries the ledger holds, and how many of each type."""

    user_id = UnicodeAttribute()
    balance = NumberAttribute(default=0)
    entries = NumberAttribute(default=0)
    type_counts = JSONAttribute(default=dict)
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()

    @classmethod
    def key(cls, user_id: str) -> tuple[str, str]:
        return _partition(user_id), "BALANCE"

    @classmethod
    def new(cls, user_id: str, now: datetime) -> TokenBalanceItem:
        pk, sk = cls.key(user_id)
        return cls(pk, sk, user_id=user_id, balance=0, entries=0, type_counts={}, updated_at=now)

    def count_of(self, transaction_type: str) -> int:
        return int((self.type_counts or {}).get(transaction_type, 0))


class TokenEntryItem(LedgerTable, discriminator="ENTRY"):
    """pk `USER#<id>`, sk `ENTRY#<sequence, 12 digits>`: the n-th change of the balance (newest = reverse Query).
    GSI1 `USER#<id>#TYPE#<type>` / the same sort key: the entries of one type, newest first."""

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
    def partition(cls, user_id: str) -> str:
        return _partition(user_id)

    @classmethod
    def sort_key(cls, sequence: int) -> str:
        return f"ENTRY#{sequence:012d}"

    @classmethod
    def type_partition(cls, user_id: str, transaction_type: str) -> str:
        return f"{_partition(user_id)}#TYPE#{transaction_type}"

    def index(self) -> None:
        self.gsi1pk = self.type_partition(self.user_id, self.transaction_type)
        self.gsi1sk = self.sk


class ConsumptionReferenceItem(LedgerTable, discriminator="REFERENCE"):
    """pk `USER#<id>`, sk `REF#<client reference>`: a consumption happens once per reference."""

    entry_id = UnicodeAttribute()
    entry_sort_key = UnicodeAttribute()
    amount = NumberAttribute()

    @classmethod
    def key(cls, user_id: str, reference: str) -> tuple[str, str]:
        return _partition(user_id), f"REF#{reference}"
