"""`bench/renewals.py` at a tiny N on moto, so the script cannot rot: its core sets up due subscriptions, sweeps,
drains the lifecycle queue and verifies that each one renewed once (timings are not asserted)."""

from __future__ import annotations

from bench import renewals
from chalicelib.core import clock


def test_the_bench_renews_every_subscription_exactly_once(seeded: dict[str, object]) -> None:
    result = renewals.run_size(20, workers=1, setup_threads=1)

    assert result.problems == []
    assert result.swept == {"due": 20, "enqueued": 20}
    assert result.drained == 20
    assert result.sweep_calls["Query"] >= 8  # at least one per shard of the due index
    assert result.sweep_calls["Scan"] == 0 and result.drain_calls["Scan"] == 0
    assert result.drain_calls["TransactWriteItems"] >= 20  # at least the renewal invoice of each
    # The round trips of one renewal (issue, charge, capture) are counted exactly; the budget keeps reductions
    # (one catalog read per task, no search for an open attempt on a first charge) from coming undone.
    per_renewal = {op: n / 20 for op, n in result.drain_calls.items()}
    assert per_renewal["GetItem"] == 7  # subscription x3, catalog, billing details, sandbox answer and outcome
    assert per_renewal["Query"] == 4  # linked add-ons, invoice (claim), invoice and live holdings (capture)
    assert result.trips_per_renewal == 22


def test_the_bench_verification_finds_subscriptions_that_did_not_renew(seeded: dict[str, object]) -> None:
    manual = clock.ManualClock(renewals.T0)
    previous = clock.use_clock(manual)
    try:
        subscribers = renewals.subscribe(3, threads=1)
        problems = renewals.verify(subscribers, manual.now())
    finally:
        clock.use_clock(previous)

    assert len(problems) == 6  # each of the three: no renewal invoice, and its period not extended
    assert all(sub_id in " ".join(problems) for _, sub_id in subscribers)
