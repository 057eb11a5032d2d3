"""Readiness reports each dependency (catalog.md §4.2); this module gets its own account per test."""

from __future__ import annotations

from chalicelib.core.aws import aws_client
from chalicelib.core.config import get_settings
from tests.integration.conftest import Api


def test_ready_when_store_and_bus_answer(fresh_api: Api) -> None:
    answer = fresh_api.get("/api/v1/health/ready")
    assert answer.status == 200
    assert answer.json == {"status": "ok", "checks": {"dynamodb": "ok", "eventbus": "ok"}}


def test_degraded_when_the_bus_is_gone(fresh_api: Api) -> None:
    events = aws_client("events")
    bus = get_settings().event_bus_name
    for rule in events.list_rules(EventBusName=bus)["Rules"]:
        events.remove_targets(Rule=rule["Name"], EventBusName=bus, Ids=["queue"])
        events.delete_rule(Name=rule["Name"], EventBusName=bus)
    events.delete_event_bus(Name=bus)
    answer = fresh_api.get("/api/v1/health/ready")
    assert answer.status == 503
    assert answer.json == {
        "error": "Service unavailable",
        "status": "degraded",
        "checks": {"dynamodb": "ok", "eventbus": "error"},
    }


def test_liveness_does_not_touch_storage(fresh_api: Api) -> None:
    from chalicelib.catalog.models import SettingsItem
    from chalicelib.core.aws import aws_client as client

    client("dynamodb").delete_table(TableName=SettingsItem.Meta.table_name)
    assert fresh_api.get("/api/v1/health").status == 200
    assert fresh_api.get("/api/v1/health/ready").json["checks"]["dynamodb"] == "error"
