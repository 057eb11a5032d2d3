"""Readiness: can we reach the data store and the event bus?"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.core.aws import aws_client
from chalicelib.core.config import get_settings
from chalicelib.core.logging import logger


@dataclass(frozen=True)
class Readiness:
    """What each dependency answered: `{"dynamodb": "ok", "eventbus": "error"}`."""

    checks: dict[str, str]

    @property
    def ready(self) -> bool:
        return all(value == "ok" for value in self.checks.values())


def _dynamodb() -> None:
    from chalicelib.catalog.models import SettingsItem

    SettingsItem.get(*SettingsItem.key(SettingsItem.NAME))


def _eventbus() -> None:
    aws_client("events").describe_event_bus(Name=get_settings().event_bus_name)


def run_checks() -> Readiness:
    results = {}
    for name, check in (("dynamodb", _dynamodb), ("eventbus", _eventbus)):
        try:
            check()
            results[name] = "ok"
        except Exception:
            logger.exception("readiness check failed", check=name)
            results[name] = "error"
    return Readiness(results)
