"""Readiness: can we reach the data store and the event bus?"""

from __future__ import annotations

from chalicelib.core.aws import aws_client
from chalicelib.core.config import get_settings
from chalicelib.core.logging import logger


def _dynamodb() -> None:
    from chalicelib.catalog.models import SettingsItem

    SettingsItem.get(*SettingsItem.key(SettingsItem.NAME))


def _eventbus() -> None:
    aws_client("events").describe_event_bus(Name=get_settings().event_bus_name)


def run_checks() -> dict[str, str]:
    results = {}
    for name, check in (("dynamodb", _dynamodb), ("eventbus", _eventbus)):
        try:
            check()
            results[name] = "ok"
        except Exception:
            logger.exception("readiness check failed", check=name)
            results[name] = "error"
    return results
