"""Modules imported on first use (cold-start budget: heavy dependencies load only for the routes that need them)."""

from __future__ import annotations

import importlib
import threading
from types import ModuleType
from typing import Any


class LazyModule:
    """Stands in for a module and imports it when one of its attributes is first read.

    A route module can hold its service module at import time while the service — and PynamoDB, botocore, PyJWT
    and bcrypt behind it — loads with the first request that uses it. `importlib.import_module` takes the import
    lock, so concurrent first requests (threaded `chalice local`, threaded tests) import it once.
    """

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None
        self._lock = threading.Lock()

    def __getattr__(self, attribute: str) -> Any:
        module = self._module
        if module is None:
            with self._lock:
                if self._module is None:
                    self._module = importlib.import_module(self._name)
                module = self._module
        return getattr(module, attribute)


def lazy_module(name: str) -> Any:
    return LazyModule(name)
