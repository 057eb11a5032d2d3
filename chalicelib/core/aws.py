"""botocore clients for EventBridge, SQS and SES, created on first use and shared.

We use botocore directly (PynamoDB already imports it) instead of boto3, which would add its own import time to
cold starts for no feature we need. Every client talks to `settings.endpoint_for(service)`: its service's
`AWS_ENDPOINT_URL_<SERVICE>`, else `AWS_ENDPOINT_URL`, else AWS.
"""

from __future__ import annotations

import threading
from typing import Any

_lock = threading.Lock()
_clients: dict[str, Any] = {}
_session: Any = None


def aws_client(service: str) -> Any:
    client = _clients.get(service)
    if client is not None:
        return client
    with _lock:
        client = _clients.get(service)
        if client is None:
            import botocore.config
            import botocore.session

            from chalicelib.core.config import get_settings

            global _session
            if _session is None:
                _session = botocore.session.get_session()
            settings = get_settings()
            config = botocore.config.Config(
                connect_timeout=5, read_timeout=10, retries={"mode": "standard", "max_attempts": 3}
            )
            client = _session.create_client(
                service,
                region_name=settings.aws_region,
                endpoint_url=settings.endpoint_for(service),
                config=config,
            )
            _clients[service] = client
    return client


def reset_clients() -> None:
    global _session
    with _lock:
        _clients.clear()
        _session = None
