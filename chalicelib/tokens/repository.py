"""Reads and writes of token balances, ledger entries and consumption references (the `ledger` table)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pynamodb.exceptions import DoesNotExist

from chalicelib.core.paging import Page, PageRequest
from chalicelib.store.paging import query_page
from chalicelib.store.reads import Key, batch_get
from chalicelib.store.transactions import Transaction
from chalicelib.tokens.models import ConsumptionReferenceItem, TokenBalanceItem, TokenEntryItem

if TYPE_CHECKING:
    from chalicelib.tokens.ledger import Ledger


def balance_of(user_id: str) -> TokenBalanceItem | None:
    try:
        return TokenBalanceItem.get(*TokenBalanceItem.key(user_id), consistent_read=True)
    except DoesNotExist:
        return None


def balances_of(user_ids: list[str]) -> dict[str, int]:
    """The token balances of several users (one BatchGetItem per 100); a user without a balance item has 0."""
    found = batch_get([(TokenBalanceItem, *TokenBalanceItem.key(user_id)) for user_id in user_ids]) if user_ids else []
    balances = dict.fromkeys(user_ids, 0)
    for item in found:
        if isinstance(item, TokenBalanceItem):
            balances[str(item.user_id)] = int(item.balance)
    return balances


def consumption_state(
    user_id: str, reference: str | None
) -> tuple[TokenBalanceItem | None, ConsumptionReferenceItem | None]:
    """The balance and, when the client sent a reference, what an earlier consumption with it recorded (one
    BatchGetItem)."""
    keys: list[Key] = [(TokenBalanceItem, *TokenBalanceItem.key(user_id))]
    if reference is not None:
        keys.append((ConsumptionReferenceItem, *ConsumptionReferenceItem.key(user_id, reference)))
    found = batch_get(keys)
    stored = found[0] if isinstance(found[0], TokenBalanceItem) else None
    earlier = found[1] if len(found) > 1 and isinstance(found[1], ConsumptionReferenceItem) else None
    return stored, earlier


def entry_of(reference: ConsumptionReferenceItem) -> TokenEntryItem:
    return TokenEntryItem.get(reference.pk, reference.entry_sort_key, consistent_read=True)


def entries_page(user_id: str, request: PageRequest, transaction_type: str | None = None) -> Page[TokenEntryItem]:
    """Newest first. Unfiltered, a page is one Query of a range of entry sequence numbers (any offset costs the
    same); of one type, a Query of that type's index. Totals come from the balance's counters."""
    stored = balance_of(user_id)
    if transaction_type is not None:
        total = stored.count_of(transaction_type) if stored else 0
        partition = TokenEntryItem.type_partition(user_id, transaction_type)

        def by_type(**paging: object) -> object:
            return TokenEntryItem.gsi1.query(partition, scan_index_forward=False, **paging)  # type: ignore[arg-type]

        return query_page(by_type, request, total)  # type: ignore[arg-type]
    total = int(stored.entries) if stored else 0
    newest = int(request.after["below"]) if request.after else total - request.offset
    oldest = max(1, newest - request.limit + 1)
    items: list[TokenEntryItem] = []
    if newest >= 1:
        query = TokenEntryItem.query(
            TokenEntryItem.partition(user_id),
            TokenEntryItem.sk.between(TokenEntryItem.sort_key(oldest), TokenEntryItem.sort_key(newest)),
            scan_index_forward=False,
            consistent_read=True,
        )
        items = [e for e in query if isinstance(e, TokenEntryItem)]
    next_key = {"below": oldest - 1} if newest >= 1 and oldest > 1 else None
    return Page(items, total, request.offset, request.limit, next_key)


def add_changes(tx: Transaction, ledger: Ledger) -> None:
    """The ledger's new entries and the balance they leave: the balance item on the condition of the version
    read (created when the user had none), each entry as a new item."""
    if not ledger.entries:
        return
    stored = ledger.stored
    if stored is None:
        balance = TokenBalanceItem.new(ledger.user_id, ledger.now)
        ledger.apply_to(balance)
        tx.create(balance, label="balance")
    else:
        ledger.apply_to(stored)
        tx.put(stored, label="balance")  # conditional on the version read
    for entry in ledger.entries:
        tx.create(entry, label="ledger_entry")
    tx.events.extend(ledger.events)


def add_reference(tx: Transaction, user_id: str, reference: str, entry: TokenEntryItem, amount: int) -> None:
    """The client reference of a consumption, taken once (a second debit with it is refused by the guard)."""
    pk, sk = ConsumptionReferenceItem.key(user_id, reference)
    item = ConsumptionReferenceItem(pk, sk, entry_id=entry.id, entry_sort_key=entry.sk, amount=amount)
    tx.create(item, label="reference")
