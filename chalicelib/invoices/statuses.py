"""Invoice statuses (contract README InvoiceStatus, checkout-and-payments.md §4.2); importable without the store.

The answer models of every domain that shows an invoice's status name `InvoiceStatus`.
"""

from typing import Literal, get_args

InvoiceStatus = Literal["PENDING", "AUTHORIZED", "PAID", "FAILED", "CANCELLED", "REFUNDED"]
INVOICE_STATUSES: tuple[str, ...] = get_args(InvoiceStatus)
