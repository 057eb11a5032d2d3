"""YooKassa (checkout-and-payments.md §10.6): the provider over the official `yookassa` SDK."""
