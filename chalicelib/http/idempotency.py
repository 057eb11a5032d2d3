"""`Idempotency-Key` (contract README §1.10).

The first request with a key claims a record (`IN_PROGRESS`); its answer is stored on it (`COMPLETED`) for 24 h and
replayed to every repeat with the same fingerprint, with `Idempotent-Replayed: true`. A repeat with other
parameters is 422, one that arrives while the first still runs is 409. A service whose answer comes from one
transaction completes the record inside that transaction (`complete_in`), so the stored answer and the state it
describes commit together; otherwise the route layer completes it after the view returns.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from chalice.app import Response
from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist, PutError

from chalicelib.core import clock
from chalicelib.core.errors import BadRequest, Conflict, Unprocessable
from chalicelib.http.request import Req
from chalicelib.http.responses import JSON, dumps
from chalicelib.store.base import IdempotencyTable
from chalicelib.store.errors import condition_failed
from chalicelib.store.transactions import Transaction

RETENTION = timedelta(hours=24)
_VALID_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
UNSTORED_STATUSES = frozenset({401, 403, 409, 413, 415, 429})


class IdempotencyRecordItem(IdempotencyTable, discriminator="IDEMPOTENCY"):
    """pk `IDEM#<principal id>#<key>`, sk `IDEM`."""

    fingerprint = UnicodeAttribute()
    status = UnicodeAttribute()
    owner = UnicodeAttribute()
    response_status = NumberAttribute(null=True)
    response_body = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()

    @classmethod
    def key(cls, principal_id: str, key: str) -> tuple[str, str]:
        return f"IDEM#{principal_id}#{key}", "IDEM"


@dataclass
class IdempotencyScope:
    record: IdempotencyRecordItem
    completed: bool = field(default=False)

    def complete_in(self, tx: Transaction, status: int, body: Any) -> None:
        """Store the answer in the transaction that produces it."""
        self.record.status = "COMPLETED"
        self.record.response_status = status
        self.record.response_body = dumps(body)
        tx.put(
            self.record,
            (IdempotencyRecordItem.status == "IN_PROGRESS") & (IdempotencyRecordItem.owner == self.record.owner),
            label="idempotency",
        )
        tx.after_commit.append(self._mark_completed)

    def _mark_completed(self) -> None:
        self.completed = True


def fingerprint(req: Req) -> str:
    params = req.raw.query_params
    query = sorted((name, value) for name in params for value in params.getlist(name)) if params else []
    try:
        body = json.dumps(req.json, sort_keys=True, separators=(",", ":"), default=str)
    except BadRequest:
        body = req.body_bytes.hex()
    material = "\n".join([req.method, req.path.rstrip("/"), json.dumps(query), body])
    return hashlib.sha256(material.encode()).hexdigest()


def begin(req: Req, principal_id: str) -> IdempotencyScope | Response | None:
    """Claim the request's key. Returns the scope to complete, the stored answer to replay, or None (no key)."""
    key = req.header("idempotency-key")
    if key is None:
        return None
    if not _VALID_KEY.match(key):
        raise BadRequest("Invalid Idempotency-Key")
    now = clock.now()
    print_ = fingerprint(req)
    pk, sk = IdempotencyRecordItem.key(principal_id, key)
    record = IdempotencyRecordItem(
        pk,
        sk,
        fingerprint=print_,
        status="IN_PROGRESS",
        owner=req.request_id or pk,
        created_at=now,
        ttl=now + RETENTION,
    )
    expired = IdempotencyRecordItem.created_at < now - RETENTION
    try:
        record.save(condition=IdempotencyRecordItem.pk.does_not_exist() | expired)
        return IdempotencyScope(record)
    except PutError as exc:
        if not condition_failed(exc):
            raise
    return _existing(pk, sk, print_, now)


def _existing(pk: str, sk: str, print_: str, now: datetime) -> Response:
    try:
        stored = IdempotencyRecordItem.get(pk, sk, consistent_read=True)
    except DoesNotExist as exc:  # released between our claim and this read: the client may simply retry
        raise Conflict("A request with this Idempotency-Key is in progress") from exc
    if stored.fingerprint != print_:
        raise Unprocessable("Idempotency key reused with different parameters")
    if stored.status != "COMPLETED" or stored.response_status is None:
        raise Conflict("A request with this Idempotency-Key is in progress")
    return Response(
        body=stored.response_body or "",
        status_code=int(stored.response_status),
        headers={"Content-Type": JSON, "Idempotent-Replayed": "true"},
    )


def finish(scope: IdempotencyScope, response: Response) -> None:
    """After the view: store the answer (2xx and most 4xx) or release the key (5xx and the statuses that never
    count as an answer)."""
    if scope.completed:
        return
    status = response.status_code
    if status >= 500 or status in UNSTORED_STATUSES:
        scope.record.delete(condition=IdempotencyRecordItem.owner == scope.record.owner)
        return
    scope.record.update(
        actions=[
            IdempotencyRecordItem.status.set("COMPLETED"),
            IdempotencyRecordItem.response_status.set(status),
            IdempotencyRecordItem.response_body.set(str(response.body or "")),
        ],
        condition=IdempotencyRecordItem.owner == scope.record.owner,
    )
