"""Token balance, ledger reads and consumption (contract subscriptions.md §11, §12.3)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pynamodb.exceptions import DoesNotExist

from chalicelib.core import clock
from chalicelib.core.errors import BadRequest, Conflict, PaymentRequired, ValidationFailed
from chalicelib.events.envelope import Actor
from chalicelib.http.pagination import Page, page_keys
from chalicelib.store.reads import Key, batch_get
from chalicelib.store.retry import attempts
from chalicelib.store.transactions import Transaction, TransactionCancelled
from chalicelib.tokens import serializers
from chalicelib.tokens.ledger import Ledger
from chalicelib.tokens.models import ConsumptionReferenceItem, TokenBalanceItem, TokenEntryItem

if TYPE_CHECKING:
    from chalicelib.auth.principal import Principal

TRANSACTION_TYPES = ("PURCHASE", "USAGE", "REFUND", "BONUS", "ADJUSTMENT", "SUBSCRIPTION")
MAX_CONSUME = 1_000_000
ATTEMPTS = 10
CONSUME_FIELDS = ("amount", "description", "reference")


def _balance_item(user_id: str) -> TokenBalanceItem | None:
    try:
        return TokenBalanceItem.get(*TokenBalanceItem.key(user_id), consistent_read=True)
    except DoesNotExist:
        return None


def balance(principal: Principal) -> dict[str, Any]:
    stored = _balance_item(principal.user_id)
    return {"balance": int(stored.balance) if stored else 0}


def transactions(principal: Principal, page: Page, kind: str | None) -> dict[str, Any]:
    """Newest first. Without a filter a page is one Query of the entries' sequence range; the total is the
    balance's entry count."""
    user_id = principal.user_id
    partition = f"USER#{user_id}"
    if kind:
        wanted = kind.strip().upper()
        if wanted not in TRANSACTION_TYPES:
            raise BadRequest(f"Invalid type: {kind}")
        query = TokenEntryItem.query(
            partition,
            TokenEntryItem.sk.startswith("ENTRY#"),
            TokenEntryItem.transaction_type == wanted,
            scan_index_forward=False,
            consistent_read=True,
        )
        matching = [e for e in query if isinstance(e, TokenEntryItem)]
        selected = matching[page.offset : page.offset + page.limit]
        total = len(matching)
    else:
        stored = _balance_item(user_id)
        total = int(stored.entries) if stored else 0
        newest = total - page.offset
        oldest = max(1, newest - page.limit + 1)
        selected = []
        if newest >= 1:
            query = TokenEntryItem.query(
                partition,
                TokenEntryItem.sk.between(TokenEntryItem.sort_key(oldest), TokenEntryItem.sort_key(newest)),
                scan_index_forward=False,
                consistent_read=True,
            )
            selected = [e for e in query if isinstance(e, TokenEntryItem)]
    return {"transactions": [serializers.transaction(e) for e in selected], **page_keys(page, total)}


def _consume_request(body: dict[str, Any]) -> tuple[int, str, str | None]:
    unknown = [name for name in body if name not in CONSUME_FIELDS]
    if unknown:
        raise ValidationFailed({name: ["Unknown field."] for name in unknown})
    if "amount" not in body or body["amount"] is None:
        raise BadRequest("amount is required")
    amount = body["amount"]
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise BadRequest("amount must be a positive integer")
    if amount > MAX_CONSUME:
        raise BadRequest(f"amount must not exceed {MAX_CONSUME}")
    description = body.get("description")
    if description is None:
        description = "Token usage"
    if not isinstance(description, str) or len(description) > 255:
        raise BadRequest("description must be at most 255 characters")
    reference = body.get("reference")
    if reference is not None and (not isinstance(reference, str) or not 1 <= len(reference) <= 255):
        raise BadRequest("reference must be 1-255 characters")
    return amount, description, reference


def consume(principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
    """Debit tokens in one conditional transaction: the balance (by its version), the entry, the reference."""
    amount, description, reference = _consume_request(body)
    user_id = principal.user_id
    for _ in attempts(ATTEMPTS):
        keys: list[Key] = [(TokenBalanceItem, *TokenBalanceItem.key(user_id))]
        if reference is not None:
            keys.append((ConsumptionReferenceItem, *ConsumptionReferenceItem.key(user_id, reference)))
        found = batch_get(keys)
        stored = found[0] if isinstance(found[0], TokenBalanceItem) else None
        earlier = found[1] if len(found) > 1 and isinstance(found[1], ConsumptionReferenceItem) else None
        if earlier is not None:
            return _replay(earlier, amount, stored)
        current = int(stored.balance) if stored else 0
        if current < amount:
            raise PaymentRequired("Insufficient token balance", balance=current)
        ledger = Ledger(user_id, stored, clock.now(), Actor.user(user_id))
        entry = ledger.debit(amount, "USAGE", None, description, reference=reference)
        tx = Transaction()
        ledger.write(tx)
        if reference is not None:
            pk, sk = ConsumptionReferenceItem.key(user_id, reference)
            tx.create(
                ConsumptionReferenceItem(pk, sk, entry_id=entry.id, entry_sort_key=entry.sk, amount=amount),
                label="reference",
            )
        try:
            tx.commit()
        except TransactionCancelled:
            continue  # another debit or credit changed the balance, or took the reference: read again
        return {"balance": ledger.balance, "transaction": serializers.transaction(entry)}
    raise Conflict("Concurrent modification, please retry")


def _replay(earlier: ConsumptionReferenceItem, amount: int, stored: TokenBalanceItem | None) -> dict[str, Any]:
    if int(earlier.amount) != amount:
        raise Conflict("Reference already used with a different amount")
    entry = TokenEntryItem.get(earlier.pk, earlier.entry_sort_key, consistent_read=True)
    return {
        "balance": int(stored.balance) if stored else 0,
        "transaction": serializers.transaction(entry),
        "replayed": True,
    }
