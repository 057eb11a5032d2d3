"""Modules imported on first use (cold-start budget: heavy dependencies load only for the routes that need them)."""

from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass
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


@dataclass(frozen=True)
class ModelRef:
    """A class named by module and attribute, imported when `resolve` first asks for it."""

    module: str
    name: str

    def resolve(self) -> Any:
        return getattr(importlib.import_module(self.module), self.name)

    def __getattr__(self, attribute: str) -> Any:
        """Used inside a view (`schemas.Body.model_validate(…)`), it stands for the class itself."""
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        return getattr(self.resolve(), attribute)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.resolve()(*args, **kwargs)


class _Refs:
    def __init__(self, module: str) -> None:
        self._module = module

    def __getattr__(self, name: str) -> ModelRef:
        if name.startswith("__"):
            raise AttributeError(name)
        return ModelRef(self._module, name)


def model_refs(module: str) -> Any:
    """`schemas = model_refs("chalicelib.tokens.schemas")`; `schemas.ConsumeBody` is a `ModelRef`, not the class:
    route declarations name their pydantic models without building them at import (they cost a cold start ~1 ms
    each). The model module is imported when a request of the route arrives or the OpenAPI document is built."""
    return _Refs(module)


def resolve(value: Any) -> Any:
    return value.resolve() if isinstance(value, ModelRef) else value
