"""`Idempotency-Key` at the HTTP edge (contract README §1.10).

The first request with a key claims a record; its answer is stored on it for 24 h and replayed to every repeat with
the same fingerprint, with `Idempotent-Replayed: true`. A repeat with other parameters is 422, one that arrives
while the first still runs is 409. A service whose answer comes from one transaction records it inside that
transaction through the `AnswerRecorder` protocol (`chalicelib.core.idempotency`): `IdempotencyScope.record`
renders the service's result the way the route does and adds it to the transaction. Otherwise the route layer
completes the record after the view returns (`finish`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chalice.app import Response

from chalicelib.core import clock
from chalicelib.core.errors import BadRequest, Conflict, Unprocessable
from chalicelib.core.jsontext import dumps, dumps_canonical
from chalicelib.http.request import Req
from chalicelib.http.responses import JSON
from chalicelib.store import idempotency as records
from chalicelib.store.transactions import Transaction

_VALID_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
UNSTORED_STATUSES = frozenset({401, 403, 409, 413, 415, 429})
IN_PROGRESS = "A request with this Idempotency-Key is in progress"

Render = Callable[[Any], tuple[int, Any]]


@dataclass
class IdempotencyScope:
    """The claimed key of one request; implements `chalicelib.core.idempotency.AnswerRecorder`."""

    record_item: records.IdempotencyRecordItem
    render: Render
    completed: bool = field(default=False)

    def record(self, tx: Transaction, result: object) -> None:
        status, body = self.render(result)
        records.complete_in(tx, self.record_item, status, dumps(body))
        tx.after_commit.append(self._mark_completed)

    def _mark_completed(self) -> None:
        self.completed = True


def fingerprint(req: Req) -> str:
    params = req.raw.query_params
    query = sorted((name, value) for name in params for value in params.getlist(name)) if params else []
    try:
        body = dumps_canonical(req.json)
    except BadRequest:
        body = req.body_bytes.hex()
    material = "\n".join([req.method, req.path.rstrip("/"), json.dumps(query), body])
    return hashlib.sha256(material.encode()).hexdigest()


def begin(req: Req, principal_id: str, render: Render) -> IdempotencyScope | Response | None:
    """Claim the request's key. Returns the scope to complete, the stored answer to replay, or None (no key)."""
    key = req.header("idempotency-key")
    if key is None:
        return None
    if not _VALID_KEY.match(key):
        raise BadRequest("Invalid Idempotency-Key")
    print_ = fingerprint(req)
    claimed = records.claim(principal_id, key, print_, req.request_id or key, clock.now())
    if claimed is not None:
        return IdempotencyScope(claimed, render)
    earlier = records.stored(principal_id, key)
    if earlier is None:  # released between our claim and this read: the client may simply retry
        raise Conflict(IN_PROGRESS)
    if earlier.fingerprint != print_:
        raise Unprocessable("Idempotency key reused with different parameters")
    if earlier.status is None:
        raise Conflict(IN_PROGRESS)
    return Response(
        body=earlier.body or "",
        status_code=earlier.status,
        headers={"Content-Type": JSON, "Idempotent-Replayed": "true"},
    )


def finish(scope: IdempotencyScope, response: Response) -> None:
    """After the view: store the answer (2xx and most 4xx) or release the key (5xx and the statuses that never
    count as an answer)."""
    if scope.completed:
        return
    status = response.status_code
    if status >= 500 or status in UNSTORED_STATUSES:
        records.release(scope.record_item)
        return
    records.complete(scope.record_item, status, str(response.body or ""))
