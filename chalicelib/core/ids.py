"""Identifiers: UUIDv4 for new records, UUIDv5 for seeded ones (seed-data.md §1)."""

from __future__ import annotations

import re
import uuid

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
SEED_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://vbwd-serverless/seed")


def new_id() -> str:
    return str(uuid.uuid4())


def is_uuid(value: object) -> bool:
    return isinstance(value, str) and _UUID.match(value) is not None


def seed_id(kind: str, natural_key: str) -> str:
    """Deterministic id of a seeded record: `seed_id("plan", "basic")`."""
    return str(uuid.uuid5(SEED_NAMESPACE, f"{kind}:{natural_key}"))
