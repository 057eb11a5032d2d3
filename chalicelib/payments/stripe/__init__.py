"""Stripe (checkout-and-payments.md §10.4): Checkout Sessions, PaymentIntents off-session, refunds, webhooks."""
