"""Invoice statuses (contract README InvoiceStatus, checkout-and-payments.md §4.2); importable without the store."""

INVOICE_STATUSES = ("PENDING", "AUTHORIZED", "PAID", "FAILED", "CANCELLED", "REFUNDED")
