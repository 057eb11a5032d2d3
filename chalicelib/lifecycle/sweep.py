"""The `subscription-lifecycle` job: find what is due through the due-time index and fan it out as tasks.

One Query per shard of GSI2 (`DUE#<0–7>`, sort key `<sortable due at>#SUB|ADDON#<id>` up to now), read a page at a
time — never a Scan. Each due item becomes one `Task` whose id names the item and the moment it is due
(`subscription:<id>:<due at>`): the queue drops a duplicate sent within five minutes, and the consumer's receipt
applies a redelivered one once. A sweep that crashes half-way loses nothing: what it did not send is still due, and
the next run (a minute later) sends it.
"""

from __future__ import annotations

from typing import Any

from chalicelib.core import clock
from chalicelib.core.times import iso, sortable
from chalicelib.events.tasks import SEND_BATCH, Task, enqueue
from chalicelib.subscriptions import repository as subscription_store
from chalicelib.subscriptions.machine import DUE_SHARDS
from chalicelib.subscriptions.models import SubscriptionItem

CONSUMER = "lifecycle-steps"
TASK_TYPE = "lifecycle.step_due"


def task_for(item: subscription_store.Holding) -> Task:
    kind = "subscription" if isinstance(item, SubscriptionItem) else "addon"
    assert item.due_at is not None
    return Task(
        type=TASK_TYPE,
        id=f"{kind}:{item.id}:{sortable(item.due_at)}",
        group=item.id,
        data={"kind": kind, "user_id": item.user_id, "id": item.id, "due_at": iso(item.due_at), "step": item.due_step},
    )


def sweep() -> dict[str, Any]:
    """Send every item due by now to the lifecycle consumer; returns how many were found and accepted."""
    now = clock.now()
    found = accepted = 0
    for shard in range(DUE_SHARDS):
        batch: list[Task] = []
        for item in subscription_store.due_by(shard, now):
            batch.append(task_for(item))
            if len(batch) == SEND_BATCH * 10:
                found, accepted = found + len(batch), accepted + enqueue(CONSUMER, batch)
                batch = []
        if batch:
            found, accepted = found + len(batch), accepted + enqueue(CONSUMER, batch)
    return {"due": found, "enqueued": accepted}
