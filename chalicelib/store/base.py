"""Table definitions: one PynamoDB base model per DynamoDB table.

Every table has string keys `pk`/`sk`, a `kind` discriminator (so one query can return several item types of an
aggregate) and, where its access patterns need them, sparse GSIs named `gsi1`..`gsi4` over `gsiNpk`/`gsiNsk`.
Entity models subclass these bases in their domain packages. `infra/` turns `TABLES` into CreateTable calls and the
deployment template, so these classes are the single definition of keys, indexes, TTLs and streams.
docs/data-model.md documents every item type and access pattern.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any, ClassVar

from pynamodb.attributes import DiscriminatorAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.connection import TableConnection
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, LocalSecondaryIndex
from pynamodb.models import Model

from chalicelib.core.config import get_settings


@dataclass(frozen=True)
class TableSpec:
    logical_name: str
    model: type[Model]
    ttl_attribute: str | None = None
    stream_view_type: str | None = None
    purpose: str = ""


TABLES: dict[str, TableSpec] = {}


def _meta(logical_name: str) -> Any:
    settings = get_settings()
    attributes = {
        "table_name": settings.table_name(logical_name),
        "region": settings.aws_region,
        "host": settings.endpoint_for("dynamodb"),
        "billing_mode": "PAY_PER_REQUEST",
    }
    return type("Meta", (), attributes)


def _index(name: str) -> GlobalSecondaryIndex[Any]:
    """A GSI over `<name>pk`/`<name>sk`. Each table gets its own index class (PynamoDB binds the class to a model)."""
    meta = type("Meta", (), {"index_name": name, "projection": AllProjection()})
    attributes = {
        "Meta": meta,
        f"{name}pk": UnicodeAttribute(hash_key=True),
        f"{name}sk": UnicodeAttribute(range_key=True),
    }
    index_cls = type(f"{name.capitalize()}Index", (GlobalSecondaryIndex,), attributes)
    return index_cls()  # type: ignore[no-any-return]


def _local_index(name: str) -> LocalSecondaryIndex[Any]:
    """An LSI over `pk`/`<name>_sk`: a second order of one partition that can be read strongly consistent."""
    meta = type("Meta", (), {"index_name": name, "projection": AllProjection()})
    attributes = {
        "Meta": meta,
        "pk": UnicodeAttribute(hash_key=True),
        f"{name}_sk": UnicodeAttribute(range_key=True),
    }
    index_cls = type(f"{name.capitalize()}LocalIndex", (LocalSecondaryIndex,), attributes)
    return index_cls()  # type: ignore[no-any-return]


class SharedConnectionModel(Model):
    """Routes every model through the one shared connection of `chalicelib.store.connection`."""

    _shared: ClassVar[bool] = False

    @classmethod
    def _get_connection(cls) -> TableConnection:
        table_connection = super()._get_connection()
        from chalicelib.store.connection import connection

        shared = connection()
        if table_connection.connection is not shared:
            meta_table = table_connection.connection.get_meta_table(table_connection.table_name)
            with contextlib.suppress(ValueError):  # another item class of the same table registered it first
                shared.add_meta_table(meta_table)
            table_connection.connection = shared
        return table_connection


def forget_model_connections() -> None:
    pending: list[type[Model]] = [SharedConnectionModel]
    while pending:
        cls = pending.pop()
        if "_connection" in cls.__dict__:
            cls._connection = None
        pending.extend(cls.__subclasses__())


def register(logical_name: str, *, stream_view_type: str | None = None, purpose: str = "") -> Any:
    """Record a table's base model in `TABLES`; TTL is on when the model holds expiring items."""

    def decorate(cls: type[Model]) -> type[Model]:
        ttl_attribute = "ttl" if issubclass(cls, Expiring) else None
        TABLES[logical_name] = TableSpec(logical_name, cls, ttl_attribute, stream_view_type, purpose=purpose)
        return cls

    return decorate


class KeyedModel(SharedConnectionModel):
    """The keys every table shares; each table adds its own `kind` discriminator and indexes."""

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class Gsi1Keys:
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)


class Gsi2Keys:
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)


class Gsi3Keys:
    gsi3pk = UnicodeAttribute(null=True)
    gsi3sk = UnicodeAttribute(null=True)


class Gsi4Keys:
    gsi4pk = UnicodeAttribute(null=True)
    gsi4sk = UnicodeAttribute(null=True)


class Expiring:
    """Items DynamoDB deletes some time after `ttl` (code checks expiry itself; TTL only cleans up)."""

    ttl = TTLAttribute(null=True)


@register("users", purpose="users, e-mail guards, billing details")
class UsersTable(Gsi1Keys, Gsi2Keys, Gsi3Keys, Gsi4Keys, KeyedModel):
    Meta = _meta("users")
    kind = DiscriminatorAttribute()
    gsi1 = _index("gsi1")
    gsi2 = _index("gsi2")
    gsi3 = _index("gsi3")
    gsi4 = _index("gsi4")


@register("auth", purpose="sessions (refresh families), refresh tokens, revoked access tokens, resets")
class AuthTable(Gsi1Keys, Expiring, KeyedModel):
    Meta = _meta("auth")
    kind = DiscriminatorAttribute()
    gsi1 = _index("gsi1")


@register("catalog", purpose="plans, categories, currencies, taxes, bundles, add-ons, countries, settings, plugins")
class CatalogTable(KeyedModel):
    Meta = _meta("catalog")
    kind = DiscriminatorAttribute()


@register("subscriptions", purpose="subscriptions and add-on subscriptions, per user; billed-period guards")
class SubscriptionsTable(Gsi1Keys, Gsi2Keys, Gsi3Keys, Gsi4Keys, KeyedModel):
    Meta = _meta("subscriptions")
    kind = DiscriminatorAttribute()
    gsi1 = _index("gsi1")
    gsi2 = _index("gsi2")
    gsi3 = _index("gsi3")
    gsi4 = _index("gsi4")
    # Sparse LSI of the items that still count (live holdings): checkout and capture read it strongly consistent
    # instead of a user's whole history.
    live_sk = UnicodeAttribute(null=True)
    live = _local_index("live")


@register("invoices", purpose="invoices with their lines, bundle purchases, credit notes")
class InvoicesTable(Gsi1Keys, Gsi2Keys, Gsi3Keys, Gsi4Keys, KeyedModel):
    Meta = _meta("invoices")
    kind = DiscriminatorAttribute()
    gsi1 = _index("gsi1")
    gsi2 = _index("gsi2")
    gsi3 = _index("gsi3")
    gsi4 = _index("gsi4")


@register("ledger", purpose="token balances, immutable ledger entries, consumption references, usage meters")
class LedgerTable(Gsi1Keys, KeyedModel):
    Meta = _meta("ledger")
    kind = DiscriminatorAttribute()
    gsi1 = _index("gsi1")


@register("counters", purpose="gapless number sequences, number guards, maintained list totals")
class CountersTable(KeyedModel):
    Meta = _meta("counters")
    kind = DiscriminatorAttribute()


@register("idempotency", purpose="Idempotency-Key records and consumer receipts")
class IdempotencyTable(Expiring, KeyedModel):
    Meta = _meta("idempotency")
    kind = DiscriminatorAttribute()


@register("provider-events", purpose="inbound provider webhook events (dedupe, then process)")
class ProviderEventsTable(Gsi1Keys, Expiring, KeyedModel):
    Meta = _meta("provider-events")
    kind = DiscriminatorAttribute()
    gsi1 = _index("gsi1")


@register("outbox", stream_view_type="NEW_IMAGE", purpose="domain events written with the state change")
class OutboxTable(Gsi1Keys, Expiring, KeyedModel):
    Meta = _meta("outbox")
    kind = DiscriminatorAttribute()
    gsi1 = _index("gsi1")


@register("webhooks", purpose="outbound webhook endpoints and deliveries")
class WebhooksTable(Gsi1Keys, Gsi2Keys, Expiring, KeyedModel):
    Meta = _meta("webhooks")
    kind = DiscriminatorAttribute()
    gsi1 = _index("gsi1")
    gsi2 = _index("gsi2")


@register("analytics", purpose="analytics aggregates, activity and audit log")
class AnalyticsTable(Gsi1Keys, Expiring, KeyedModel):
    Meta = _meta("analytics")
    kind = DiscriminatorAttribute()
    gsi1 = _index("gsi1")


@register("booking", purpose="tenants and every booking entity; slot granules and holds")
class BookingTable(Gsi1Keys, Gsi2Keys, Gsi3Keys, Expiring, KeyedModel):
    Meta = _meta("booking")
    kind = DiscriminatorAttribute()
    gsi1 = _index("gsi1")
    gsi2 = _index("gsi2")
    gsi3 = _index("gsi3")


@register("ratelimits", purpose="fixed-window request counters and failed-login counters")
class RateLimitsTable(Expiring, KeyedModel):
    Meta = _meta("ratelimits")
    kind = DiscriminatorAttribute()


@register("notifications", purpose="log of every e-mail and SMS sent")
class NotificationsTable(Gsi1Keys, Expiring, KeyedModel):
    Meta = _meta("notifications")
    kind = DiscriminatorAttribute()
    gsi1 = _index("gsi1")
