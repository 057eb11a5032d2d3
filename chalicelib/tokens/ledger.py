"""Changes of one user's token balance inside one transaction (contract subscriptions.md §11)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from chalicelib.core.ids import new_id
from chalicelib.events.catalog import TokensCredited, TokensDebited
from chalicelib.events.envelope import Actor, Event
from chalicelib.store.transactions import Transaction
from chalicelib.tokens.models import TokenBalanceItem, TokenEntryItem


@dataclass
class Ledger:
    """Collects credits and debits; `write` adds the balance and the new entries to a transaction.

    Several changes in one transaction (plan tokens and two bundles in one capture) update the balance item once,
    each entry carrying the balance right after it.
    """

    user_id: str
    stored: TokenBalanceItem | None
    now: datetime
    actor: Actor
    entries: list[TokenEntryItem] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    def __post_init__(self) -> None:
        # What was stored when read: `write` updates the stored item, these stay the starting point.
        self._start_balance = int(self.stored.balance) if self.stored else 0
        self._start_entries = int(self.stored.entries) if self.stored else 0

    @property
    def balance(self) -> int:
        return self._start_balance + sum(int(entry.amount) for entry in self.entries)

    def _next_sequence(self) -> int:
        return self._start_entries + len(self.entries) + 1

    def _entry(
        self,
        amount: int,
        transaction_type: str,
        reference_id: str | None,
        description: str,
        reference: str | None = None,
        shortfall: int = 0,
    ) -> TokenEntryItem:
        sequence = self._next_sequence()
        entry = TokenEntryItem(
            TokenEntryItem.partition(self.user_id),
            TokenEntryItem.sort_key(sequence),
            id=new_id(),
            user_id=self.user_id,
            sequence=sequence,
            amount=amount,
            transaction_type=transaction_type,
            reference_id=reference_id,
            reference=reference,
            description=description,
            balance_after=self.balance + amount,
            shortfall=shortfall,
            created_at=self.now,
        )
        entry.index()
        self.entries.append(entry)
        return entry

    def credit(self, amount: int, transaction_type: str, reference_id: str | None, description: str) -> TokenEntryItem:
        if amount <= 0:
            raise ValueError("a credit is positive")
        entry = self._entry(amount, transaction_type, reference_id, description)
        self.events.append(Event(TokensCredited.of(entry), self.actor, occurred_at=self.now))
        return entry

    def debit(
        self,
        amount: int,
        transaction_type: str,
        reference_id: str | None,
        description: str,
        *,
        reference: str | None = None,
        clamp: bool = False,
    ) -> TokenEntryItem:
        """Take `amount` off the balance; with `clamp`, at most what is there (the rest noted as shortfall)."""
        if amount <= 0:
            raise ValueError("a debit is positive")
        taken = min(amount, self.balance) if clamp else amount
        if taken > self.balance:
            raise ValueError("the balance does not cover the debit")
        entry = self._entry(-taken, transaction_type, reference_id, description, reference, shortfall=amount - taken)
        self.events.append(Event(TokensDebited.of(entry), self.actor, occurred_at=self.now))
        return entry

    def take_back(self, amount: int, reference_id: str) -> int:
        """A refund's debit of tokens it had credited (checkout-and-payments.md §7.2): at most the balance, the rest
        named as the shortfall not recovered; returns how many were taken."""
        taken = min(amount, max(self.balance, 0))
        short = amount - taken
        description = f"Refund: {taken} tokens" + (f" (shortfall {short} not recovered)" if short else "")
        self.debit(amount, "REFUND", reference_id, description, clamp=True)
        return taken

    def give_back(self, amount: int, transaction_type: str, reference_id: str) -> None:
        """A refund reversal re-credits what its refund took (§7.4)."""
        self.credit(amount, transaction_type, reference_id, f"Refund reversed: {amount} tokens restored")

    def apply_to(self, balance: TokenBalanceItem) -> None:
        """Put the balance, entry count and per-type counts after these changes on the balance item."""
        counts = dict(balance.type_counts or {})
        for entry in self.entries:
            counts[str(entry.transaction_type)] = int(counts.get(str(entry.transaction_type), 0)) + 1
        balance.balance = self.balance
        balance.entries = self._start_entries + len(self.entries)
        balance.type_counts = counts
        balance.updated_at = self.now

    def write(self, tx: Transaction) -> None:
        """Add the changes to `tx` (through the ledger's repository)."""
        from chalicelib.tokens.repository import add_changes

        add_changes(tx, self)
