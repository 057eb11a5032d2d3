"""Local emulators of the payment providers\x27 APIs (Stripe, PayPal, YooKassa) for `make run` and the tests."""
