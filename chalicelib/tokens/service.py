"""Token balance, ledger reads and consumption (contract subscriptions.md §11, §12.3)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.core import clock
from chalicelib.core.errors import Conflict, PaymentRequired
from chalicelib.core.paging import Page, PageRequest
from chalicelib.events.envelope import Actor
from chalicelib.store.retry import retrying
from chalicelib.store.transactions import Transaction
from chalicelib.tokens import repository, serializers
from chalicelib.tokens.ledger import Ledger
from chalicelib.tokens.models import ConsumptionReferenceItem, TokenBalanceItem

if TYPE_CHECKING:
    from chalicelib.auth.principal import Principal
    from chalicelib.core.idempotency import AnswerRecorder
    from chalicelib.tokens.schemas import ConsumeBody

ATTEMPTS = 20  # one user's balance is the hottest item a client can make: give racing debits room


def balance(principal: Principal) -> dict[str, Any]:
    stored = repository.balance_of(principal.user_id)
    return {"balance": int(stored.balance) if stored else 0}


def transactions(principal: Principal, page: PageRequest, transaction_type: str | None) -> Page[dict[str, Any]]:
    """Newest first; filtered by type through the type's own index."""
    return repository.entries_page(principal.user_id, page, transaction_type).map(serializers.transaction)


def consume(principal: Principal, request: ConsumeBody, recorder: AnswerRecorder | None = None) -> dict[str, Any]:
    """Debit tokens in one conditional transaction: the balance (by its version), the entry, the reference — and
    the stored Idempotency-Key answer, when there is one."""
    user_id = principal.user_id

    def debit() -> dict[str, Any]:
        stored, earlier = repository.consumption_state(user_id, request.reference)
        if earlier is not None:
            return _replay(earlier, request.amount, stored)
        current = int(stored.balance) if stored else 0
        if current < request.amount:
            raise PaymentRequired("Insufficient token balance", balance=current)
        ledger = Ledger(user_id, stored, clock.now(), Actor.user(user_id))
        entry = ledger.debit(request.amount, "USAGE", None, request.description, reference=request.reference)
        answer = {"balance": ledger.balance, "transaction": serializers.transaction(entry)}
        tx = Transaction()
        ledger.write(tx)
        if request.reference is not None:
            repository.add_reference(tx, user_id, request.reference, entry, request.amount)
        if recorder is not None:
            recorder.record(tx, answer)
        tx.commit()
        return answer

    # Any refusal means another debit or credit changed the balance, or took the reference: read again.
    return retrying(debit, tries=ATTEMPTS)


def _replay(earlier: ConsumptionReferenceItem, amount: int, stored: TokenBalanceItem | None) -> dict[str, Any]:
    if int(earlier.amount) != amount:
        raise Conflict("Reference already used with a different amount")
    return {
        "balance": int(stored.balance) if stored else 0,
        "transaction": serializers.transaction(repository.entry_of(earlier)),
        "replayed": True,
    }
