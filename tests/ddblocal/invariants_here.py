"""What the invariant checks of this tier judge."""

from __future__ import annotations

from typing import Any

# `test_invoice_list_cost` writes thousands of invoices straight through the repository with made-up numbers
# (`TEST-<user>-<n>`, no numbering, no guards) into the tier's shared tables; the invariant checks of the other
# tests judge the documents the product numbered.
MADE_UP_NUMBERS = "TEST-"


def numbered_by_the_product(violations: list[Any]) -> list[Any]:
    return [v for v in violations if not str(v.subject).startswith(MADE_UP_NUMBERS)]
