"""YooKassa's official SDK (`yookassa`) configured from the provider's keys, imported on first use only.

The SDK's configuration is process-wide (class attributes of `yookassa.Configuration`), so every call configures it
from the keys just resolved and runs under one lock: two calls never talk to YooKassa with each other's keys. The
base URL is `keys.api_base` when set (the local emulator), else YooKassa's own. Failures come back as
`YookassaApiError` (YooKassa answered an error: its code and description) or `ProviderError` (YooKassa did not
answer); neither message ever holds the secret key.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from chalicelib.payments.hosted import ProviderError, ProviderKeys, provider_keys

T = TypeVar("T")
CODE = "yookassa"
_LOCK = threading.Lock()


class YookassaApiError(ProviderError):
    """YooKassa answered with an error object (`invalid_request`, `not_found`, `internal_server_error` …)."""

    def __init__(self, status: int, code: str, description: str) -> None:
        super().__init__(description)
        self.status, self.code, self.description = status, code, description


def keys() -> ProviderKeys:
    """The active mode's keys; `ProviderNotConfigured` when the shop id or the secret key is missing."""
    found = provider_keys(CODE)
    found.require("shop_id")
    found.require("secret_key")
    return found


def call(action: Callable[[Any], T], given: ProviderKeys | None = None) -> T:
    """Run `action(yookassa)` with the SDK configured from the keys (resolved now unless given)."""
    import yookassa  # type: ignore[import-untyped]
    from yookassa.domain.exceptions import ApiError  # type: ignore[import-untyped]

    resolved = given or keys()
    secret = resolved.require("secret_key")
    options: dict[str, Any] = {"api_url": resolved.api_base} if resolved.api_base else {}
    with _LOCK:
        yookassa.Configuration.configure(resolved.require("shop_id"), secret, **options)
        try:
            return action(yookassa)
        except ApiError as error:
            content = error.content if isinstance(error.content, dict) else {}
            description = str(content.get("description") or "YooKassa refused the request")
            raise YookassaApiError(
                int(getattr(error, "HTTP_CODE", 0) or 0),
                str(content.get("code") or "error"),
                _clean(description, secret),
            ) from None
        except ProviderError:
            raise
        except Exception as error:  # the SDK lets network failures out as whatever they become (even AttributeError)
            raise ProviderError(_clean(f"YooKassa API unreachable ({type(error).__name__})", secret)) from None
        finally:
            yookassa.Configuration.configure(None, None)


def _clean(message: str, secret: str) -> str:
    return message.replace(secret, "***") if secret else message
