"""What `GET /user/usage` costs does not grow with the user's history: the period's meters are one key range."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chalicelib.core import clock
from chalicelib.usage.models import UsageMeterItem
from tests.ddb_calls import counting_dynamodb
from tests.integration.buyers import Buyer, read, register_buyer
from tests.integration.conftest import Api

USAGE = "/api/v1/user/usage"
NOW = datetime(2026, 5, 10, 12, 0, tzinfo=UTC)


def _history(buyer: Buyer, meters: int) -> None:
    """`meters` meters of earlier months (as years of reports would leave), written straight to the table."""
    with UsageMeterItem.batch_write() as batch:
        for n in range(meters):
            month = n // 20  # 100 months of 20 features: January 2017 to April 2025
            start = datetime(2017 + month // 12, 1 + month % 12, 1, tzinfo=UTC)
            batch.save(
                UsageMeterItem(
                    *UsageMeterItem.key(buyer.user_id, start, f"feature_{n % 20}"),
                    user_id=buyer.user_id,
                    feature=f"feature_{n % 20}",
                    period_start=start,
                    period_end=start + timedelta(days=28),
                    used=n,
                    updated_at=start,
                )
            )


def _cost(api: Api, buyer: Buyer) -> tuple[int, int, dict[str, object]]:
    with counting_dynamodb() as calls:
        usage = read(api, USAGE, buyer.token)
    return calls.round_trips, calls.items_read, usage


def test_a_read_costs_the_same_with_two_thousand_earlier_meters(api: Api, manual_clock: clock.ManualClock) -> None:
    manual_clock.set(NOW)
    fresh, veteran = register_buyer(api, "fresh"), register_buyer(api, "veteran")
    _history(veteran, 2000)
    for buyer in (fresh, veteran):
        for feature in ("renders", "exports", "uploads"):
            assert api.post(USAGE, {"feature": feature, "quantity": 2}, token=buyer.token).status == 200

    fresh_trips, fresh_items, fresh_usage = _cost(api, fresh)
    veteran_trips, veteran_items, veteran_usage = _cost(api, veteran)

    assert list(veteran_usage) == ["tokens", "exports", "renders", "uploads"]
    assert veteran_usage == fresh_usage | {"tokens": veteran_usage["tokens"]}
    assert veteran_trips == fresh_trips
    assert veteran_items == fresh_items < 20
