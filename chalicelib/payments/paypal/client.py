"""PayPal's official server SDK (`paypal-server-sdk`) configured from the plugin config's keys.

The SDK's `Configuration` takes no base URL: its `environments` mapping decides where each environment's calls go.
`_Configuration` gives each instance its own mapping, so that when `ProviderKeys.api_base` is set (the local
emulator of `infra/emulators/paypal.py`) both environments point there; otherwise it is PayPal's own. The SDK's
modules are never touched. `clone_with` is overridden because the SDK's version builds a base `Configuration`
(the SDK itself calls it only from `from_environment`, which is not used here).

The SDK has no call for PayPal's webhook signature verification (Notifications v1), so `NotificationsController`
adds it with the SDK's own request machinery — the same base URL, bearer token and error handling as the SDK's
controllers. The webhook event is spliced into the request as the raw bytes received: PayPal's CRC32 covers the
body as sent, which a re-serialized event would not reproduce.

Everything here loads the SDK on first use only: nothing `app.py` imports at cold start imports this module.
"""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalicelib.payments.hosted import ProviderKeys

TIMEOUT = 20  # seconds for one API call
_clients: dict[tuple[str | None, str, str, bool], Any] = {}
_lock = threading.Lock()


def sdk_client(keys: ProviderKeys) -> Any:
    """A `PaypalServersdkClient` for the keys' mode, kept per key set so its OAuth token is reused."""
    client_id = keys.require("client_id")
    client_secret = keys.require("client_secret")
    cache_key = (keys.api_base, client_id, client_secret, keys.sandbox)
    with _lock:
        found = _clients.get(cache_key)
        if found is None:
            found = _build(keys.api_base, client_id, client_secret, keys.sandbox)
            _clients[cache_key] = found
        return found


def forget_client(keys: ProviderKeys) -> None:
    """Drop the cached client of these keys (its token was refused): the next call fetches a new token."""
    with _lock:
        for cache_key in [k for k in _clients if k[:2] == (keys.api_base, keys.get("client_id"))]:
            del _clients[cache_key]


def _fetch_token(_last: Any, auth: Any) -> Any:
    """Ask for a token, letting PayPal's refusal (`invalid_client` …) surface instead of the SDK's generic
    'OAuthToken is undefined or expired'."""
    return auth.fetch_token()


def _build(api_base: str | None, client_id: str, client_secret: str, sandbox: bool) -> Any:
    from paypalserversdk.configuration import Configuration, Environment, Server  # type: ignore[import-untyped]
    from paypalserversdk.http.auth.o_auth_2 import ClientCredentialsAuthCredentials  # type: ignore[import-untyped]
    from paypalserversdk.paypal_serversdk_client import PaypalServersdkClient  # type: ignore[import-untyped]

    class _Configuration(Configuration):  # type: ignore[misc]
        """The SDK's configuration with this instance's own base URL for both environments."""

        def __init__(self, base_url: str | None = None, **kwargs: Any) -> None:
            self.base_url = base_url
            if base_url:
                self.environments = {env: {Server.DEFAULT: base_url.rstrip("/")} for env in Environment}
            super().__init__(**kwargs)

        def clone_with(self, **overrides: Any) -> Any:
            cloned = super().clone_with(**overrides)
            return _Configuration(
                self.base_url,
                http_client_instance=cloned.http_client_instance,
                timeout=cloned.timeout,
                max_retries=cloned.max_retries,
                environment=cloned.environment,
                client_credentials_auth_credentials=cloned.client_credentials_auth_credentials,
            )

    credentials = ClientCredentialsAuthCredentials(
        o_auth_client_id=client_id, o_auth_client_secret=client_secret, o_auth_token_provider=_fetch_token
    )
    config = _Configuration(
        api_base,
        timeout=TIMEOUT,
        max_retries=0,
        environment=Environment.SANDBOX if sandbox else Environment.PRODUCTION,
        client_credentials_auth_credentials=credentials,
    )
    client = PaypalServersdkClient(config=config)
    client.notifications = _notifications_controller(client.global_configuration)
    return client


def _notifications_controller(global_configuration: Any) -> Any:
    from apimatic_core.authentication.multiple.single_auth import Single  # type: ignore[import-untyped]
    from apimatic_core.request_builder import RequestBuilder  # type: ignore[import-untyped]
    from apimatic_core.response_handler import ResponseHandler  # type: ignore[import-untyped]
    from apimatic_core.types.parameter import Parameter  # type: ignore[import-untyped]
    from paypalserversdk.api_helper import APIHelper  # type: ignore[import-untyped]
    from paypalserversdk.configuration import Server
    from paypalserversdk.controllers.base_controller import BaseController  # type: ignore[import-untyped]
    from paypalserversdk.exceptions.error_exception import ErrorException  # type: ignore[import-untyped]
    from paypalserversdk.http.http_method_enum import HttpMethodEnum  # type: ignore[import-untyped]

    class NotificationsController(BaseController):  # type: ignore[misc]
        """PayPal Notifications v1: `POST /v1/notifications/verify-webhook-signature`."""

        def verify_webhook_signature(self, options: dict[str, Any]) -> Any:
            """`options`: `fields` (the transmission headers' values and `webhook_id`), `raw_event` (bytes)."""
            head = json.dumps(options["fields"])[:-1]  # the object without its closing brace
            body = f'{head}, "webhook_event": {options["raw_event"].decode("utf-8")}}}'
            return super().new_api_call_builder.request(
                RequestBuilder()
                .server(Server.DEFAULT)
                .path("/v1/notifications/verify-webhook-signature")
                .http_method(HttpMethodEnum.POST)
                .header_param(Parameter().key("Content-Type").value("application/json"))
                .header_param(Parameter().key("accept").value("application/json"))
                .body_param(Parameter().value(body))
                .auth(Single("Oauth2"))
            ).response(
                ResponseHandler()
                .deserializer(APIHelper.json_deserialize)
                .is_api_response(True)
                .local_error("400", "Request is not well-formed, syntactically incorrect, or violates schema.",
                             ErrorException)
                .local_error("default", "The error response.", ErrorException)
            ).execute()  # fmt: skip

    return NotificationsController(global_configuration)
