"""Local emulators of the payment providers' APIs (Stripe, PayPal, YooKassa) for `make run` and the tests."""
