"""Renewals at scale: the `subscription-lifecycle` sweep and one worker draining its tasks, on DynamoDB Local.

For each size N the script starts a fresh DynamoDB Local on a free loopback port (`infra/dynamodb_local.py`), with
SQS, EventBridge and SES on moto's in-process mock (as the `tests/ddblocal` tier does), creates the stage's tables
and queues and seeds. Setup (not measured): N buyers check out the monthly Basic plan with the sandbox method and
pay it through the payment service, so each has an ACTIVE subscription with a saved method, written by the same
code as in production. The clock (a manual one) then moves to the renewal lead time of that period, when all N are
due at once, and the script measures:

1. the sweep (`jobs.run("subscription-lifecycle")`): wall time to find and enqueue all N, and its DynamoDB Queries
   (one page of `DUE_PAGE` items per Query, per shard of the due index);
2. one worker draining the `lifecycle-steps` queue until it is empty (`drain_queue`, the same partial-batch path
   as the local worker and the Lambda SQS handler): wall time and renewals per second;
3. DynamoDB round trips per renewal during the drain, by operation (counted with a botocore event hook on the one
   DynamoDB client the app uses); goal ≤ 6;
4. linearity: the ratio of each figure between the sizes.

It then checks the result: every subscription renewed exactly once (N PAID renewal invoices, one per subscription,
each captured once; N periods extended by one month) and `chalicelib.audit.invariants.check_all(now)` finds
nothing. Any failure exits non-zero.

    .venv/bin/python bench/renewals.py [--sizes 1000,10000] [--workers 1] [--setup-threads 4]
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))
GOAL_TRIPS_PER_RENEWAL = 6
PASSWORD = "Abcdef1!"
T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)  # every subscription starts here: one period ends at END
END = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
NEXT_END = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)


class RoundTrips:
    """Counts the DynamoDB API calls the app's client sends, by operation (thread-safe)."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, request: Any, **_: Any) -> None:
        target = request.headers.get("X-Amz-Target", b"")
        name = target.decode() if isinstance(target, bytes) else str(target)
        with self._lock:
            self.calls[name.split(".")[-1]] += 1

    def take(self) -> Counter[str]:
        with self._lock:
            taken, self.calls = self.calls, Counter()
        return taken


@dataclass
class Result:
    size: int
    workers: int
    setup_s: float = 0.0
    sweep_s: float = 0.0
    sweep_calls: Counter[str] = field(default_factory=Counter)
    sweep_send_s: float = 0.0  # of the sweep's time, what its SendMessageBatch calls to SQS (moto here) took
    swept: dict[str, Any] = field(default_factory=dict)
    drain_s: float = 0.0
    drained: int = 0
    drain_calls: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    @property
    def renewals_per_second_per_worker(self) -> float:
        return self.size / self.drain_s / self.workers

    @property
    def trips_per_renewal(self) -> float:
        return sum(self.drain_calls.values()) / self.size


@contextmanager
def ddblocal_stack() -> Iterator[None]:
    """DynamoDB Local for DynamoDB, moto's in-process mock for the rest; tables, queues and seed data."""
    from moto import mock_aws

    from infra import dynamodb_local

    os.environ.update(
        VBWD_STAGE="local",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_REGION="us-east-1",
        BCRYPT_ROUNDS="4",
        POWERTOOLS_LOG_LEVEL="ERROR",
        RATE_LIMIT_PER_HOUR="100000000",
        RATE_LIMIT_PER_DAY="100000000",
    )
    try:
        with dynamodb_local.running() as endpoint:
            os.environ.update(AWS_ENDPOINT_URL_DYNAMODB=endpoint, DYNAMODB_ENGINE="dynamodb-local")
            with mock_aws():
                bootstrap()
                yield
    except dynamodb_local.NotInstalled as exc:
        raise SystemExit(str(exc)) from None
    finally:
        os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
        os.environ["DYNAMODB_ENGINE"] = "moto"
        forget()


def forget() -> None:
    from chalicelib.catalog.repository import forget_snapshot
    from chalicelib.core.aws import reset_clients
    from chalicelib.core.config import reload_settings
    from chalicelib.events import tasks
    from chalicelib.events.draining import forget_queue_urls
    from chalicelib.store.connection import reset_connection

    forget_snapshot()
    reload_settings()
    reset_connection()
    reset_clients()
    forget_queue_urls()
    tasks.forget_queue_urls()


def bootstrap() -> None:
    from chalicelib.core.config import get_settings
    from chalicelib.seed.runner import seed
    from infra.bootstrap import ensure_mail_identity, ensure_messaging, ensure_tables

    forget()
    ensure_tables(get_settings())
    ensure_messaging(get_settings())
    ensure_mail_identity(get_settings())
    seed()


def subscribe(size: int, threads: int) -> list[tuple[str, str]]:
    """`size` buyers with a paid monthly Basic subscription from the current clock and a saved sandbox method:
    registration, checkout and payment through the services, as the routes call them. Returns (user id,
    subscription id) pairs."""
    from chalicelib.auth.principal import authenticate
    from chalicelib.auth.schemas import RegisterBody
    from chalicelib.auth.service import register
    from chalicelib.checkout.schemas import CheckoutBody
    from chalicelib.checkout.service import checkout
    from chalicelib.core.ids import new_id, seed_id
    from chalicelib.payments.schemas import PayBody
    from chalicelib.payments.service import pay

    basket = CheckoutBody.model_validate(
        {"plan_id": seed_id("plan", "basic"), "payment_method_code": "sandbox"}
    ).basket()

    def one(index: int) -> tuple[str, str]:
        registered = register(RegisterBody(email=f"renew-{index}-{new_id()[:8]}@example.com", password=PASSWORD))
        principal = authenticate(f"Bearer {registered['token']}")
        bought = checkout(principal, basket)
        pay(principal, bought["invoice"]["id"], PayBody(payment_method_code="sandbox"))
        return principal.user_id, str(bought["subscription"]["id"])

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(one, range(size)))


def drain(workers: int) -> int:
    """`workers` threads drain the lifecycle queue until it is empty; returns the messages deleted."""
    from chalicelib.events.draining import drain_queue
    from chalicelib.lifecycle.sweep import CONSUMER

    if workers == 1:
        return drain_queue(CONSUMER)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return sum(pool.map(lambda _: drain_queue(CONSUMER), range(workers)))


def verify(subscribers: list[tuple[str, str]], now: datetime) -> list[str]:
    """Every subscription renewed exactly once, and the invariants hold; returns what is wrong."""
    from chalicelib.audit.invariants import check_all, report
    from chalicelib.invoices.models import InvoiceItem
    from chalicelib.subscriptions.repository import subscription_of

    problems: list[str] = []
    renewals: dict[str, list[InvoiceItem]] = {}
    for invoice in InvoiceItem.scan():  # an audit, after the measurement
        if isinstance(invoice, InvoiceItem) and invoice.billing_reason == "RENEWAL":
            renewals.setdefault(str(invoice.subscription_id), []).append(invoice)
    for user_id, sub_id in subscribers:
        found = renewals.pop(sub_id, [])
        paid = [i for i in found if i.status == "PAID" and int(i.capture_count) == 1]
        if len(found) != 1 or len(paid) != 1:
            problems.append(f"subscription {sub_id}: renewal invoices {[(i.status, i.capture_count) for i in found]}")
        sub = subscription_of(user_id, sub_id)
        if sub is None or (sub.status, sub.expires_at, sub.renewal_invoice_id) != ("ACTIVE", NEXT_END, None):
            state = None if sub is None else (sub.status, sub.expires_at, sub.renewal_invoice_id)
            problems.append(f"subscription {sub_id}: {state}, expected ACTIVE until {NEXT_END.isoformat()}")
    problems += [f"renewal invoices of unknown subscription {sub_id}" for sub_id in renewals]
    violations = check_all(now)
    if violations:
        problems.append("invariants: " + report(violations))
    return problems


@contextmanager
def timed_sends(result: Result) -> Iterator[None]:
    """Time the sweep's sends to the task queue apart from its Queries: the in-process SQS emulator (moto) spends
    longer on each FIFO send the more messages its queue already holds, which AWS's SQS does not."""
    from chalicelib.lifecycle import sweep

    real = sweep.enqueue

    def enqueue(consumer: str, tasks: Any) -> int:
        began = time.perf_counter()
        try:
            return real(consumer, tasks)
        finally:
            result.sweep_send_s += time.perf_counter() - began

    sweep.enqueue = enqueue
    try:
        yield
    finally:
        sweep.enqueue = real


def run_size(size: int, workers: int = 1, setup_threads: int = 4) -> Result:
    """Set up `size` due subscriptions on the current stack and measure the sweep and the drain (see the module)."""
    from chalicelib.catalog.repository import reference
    from chalicelib.core import clock
    from chalicelib.jobs import run
    from chalicelib.store.connection import client
    from chalicelib.subscriptions.policy import LifecyclePolicy

    result = Result(size, workers)
    manual = clock.ManualClock(T0)
    previous = clock.use_clock(manual)
    counter = RoundTrips()
    try:
        began = time.perf_counter()
        subscribers = subscribe(size, setup_threads)
        result.setup_s = time.perf_counter() - began
        now = manual.set(END - LifecyclePolicy.of(reference()).renewal_lead_time)

        client().meta.events.register("before-send.dynamodb", counter)
        try:
            counter.take()
            began = time.perf_counter()
            with timed_sends(result):
                result.swept = run("subscription-lifecycle")
            result.sweep_s = time.perf_counter() - began
            result.sweep_calls = counter.take()

            began = time.perf_counter()
            result.drained = drain(workers)
            result.drain_s = time.perf_counter() - began
            result.drain_calls = counter.take()
        finally:
            client().meta.events.unregister("before-send.dynamodb", counter)
        if result.swept != {"due": size, "enqueued": size}:
            result.problems.append(f"the sweep found {result.swept}, expected {size} due and enqueued")
        if result.drained != size:
            result.problems.append(f"the drain deleted {result.drained} messages, expected {size}")
        result.problems += verify(subscribers, now)
    finally:
        clock.use_clock(previous)
    return result


def show(results: list[Result]) -> None:
    print("\nRenewals: all N due at once; one sweep, then the lifecycle queue drained until empty")
    print("(SQS s: the part of the sweep spent sending its tasks to the in-process SQS emulator)\n")
    print(
        f"  {'N':>6} {'workers':>7} {'setup s':>8} {'sweep s':>8} {'SQS s':>7} {'Queries':>8} {'drain s':>8}"
        f" {'renewals/s/worker':>18} {'trips/renewal':>14}"
    )
    for r in results:
        print(
            f"  {r.size:>6} {r.workers:>7} {r.setup_s:>8.1f} {r.sweep_s:>8.2f} {r.sweep_send_s:>7.2f}"
            f" {r.sweep_calls['Query']:>8}"
            f" {r.drain_s:>8.1f} {r.renewals_per_second_per_worker:>18.1f} {r.trips_per_renewal:>14.2f}"
        )
    for r in results:
        sweep = ", ".join(f"{op} {n}" for op, n in sorted(r.sweep_calls.items()))
        print(f"\n  N={r.size}: sweep's DynamoDB calls: {sweep}")
        per = ", ".join(f"{op} {n / r.size:.2f}" for op, n in r.drain_calls.most_common())
        verdict = "met" if r.trips_per_renewal <= GOAL_TRIPS_PER_RENEWAL else "MISSED"
        goal = f"goal ≤ {GOAL_TRIPS_PER_RENEWAL} {verdict}"
        print(f"  N={r.size}: round trips per renewal {r.trips_per_renewal:.2f}, {goal}")
        print(f"    by operation, per renewal: {per}")
    for small, large in itertools.pairwise(results):
        factor = large.size / small.size
        trips = sum(large.drain_calls.values()) / sum(small.drain_calls.values())
        finding = (large.sweep_s - large.sweep_send_s) / (small.sweep_s - small.sweep_send_s)
        print(
            f"\n  Linearity N={small.size} → N={large.size} ({factor:.0f}× the subscriptions):"
            f" sweep time {large.sweep_s / small.sweep_s:.1f}×"
            f" (without the SQS sends {finding:.1f}×),"
            f" Queries"
            f" {large.sweep_calls['Query'] / max(1, small.sweep_calls['Query']):.1f}×,"
            f" drain time {large.drain_s / small.drain_s:.1f}×, drain round trips {trips:.1f}×"
        )
    for r in results:
        verdict = "renewed exactly once, invariants hold" if not r.problems else f"{len(r.problems)} PROBLEMS"
        print(f"\n  Verified N={r.size}: {verdict}")
        for problem in r.problems[:20]:
            print(f"    {problem}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000", help="numbers of subscriptions, each on a fresh engine")
    parser.add_argument("--workers", type=int, default=1, help="threads draining the lifecycle queue")
    parser.add_argument("--setup-threads", type=int, default=4, help="threads checking out and paying in setup")
    args = parser.parse_args()
    results = []
    for size in (int(n) for n in args.sizes.split(",") if n.strip()):
        with ddblocal_stack():
            results.append(run_size(size, args.workers, args.setup_threads))
            print(f"N={size} done", file=sys.stderr, flush=True)
    show(results)
    return 1 if any(r.problems for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
