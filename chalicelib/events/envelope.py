"""Domain events: typed payloads and the envelope of contract events.md §1."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Literal

from chalicelib.core import clock
from chalicelib.core.context import request_id
from chalicelib.core.ids import new_id
from chalicelib.core.times import iso

ActorType = Literal["user", "admin", "system", "provider"]


@dataclass(frozen=True)
class Actor:
    type: ActorType
    id: str | None = None

    @classmethod
    def user(cls, user_id: str | None) -> Actor:
        return cls("user", user_id)

    @classmethod
    def system(cls, job: str | None = None) -> Actor:
        return cls("system", job)


@dataclass(frozen=True)
class EventData:
    """Base of every event payload. Subclasses set TYPE, SOURCE and whether outbound webhooks may carry it."""

    TYPE: ClassVar[str]
    SOURCE: ClassVar[str]
    WEBHOOK: ClassVar[bool] = True

    def to_data(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


@dataclass(frozen=True)
class Event:
    data: EventData
    actor: Actor
    tenant: str | None = None
    id: str = field(default_factory=new_id)
    occurred_at: datetime = field(default_factory=clock.now)
    correlation_id: str | None = field(default_factory=request_id.get)
    version: int = 1

    @property
    def type(self) -> str:
        return self.data.TYPE

    @property
    def source(self) -> str:
        return self.data.SOURCE

    def envelope(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "version": self.version,
            "occurred_at": iso(self.occurred_at),
            "source": self.source,
            "tenant": self.tenant,
            "actor": {"type": self.actor.type, "id": self.actor.id},
            "correlation_id": self.correlation_id,
            "data": self.data.to_data(),
        }
