"""The test suite: a regular package, so that no installed distribution's stray top-level `tests` package
(apimatic-core ships one) can shadow it."""
