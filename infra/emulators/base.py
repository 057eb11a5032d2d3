"""What the local payment-provider emulators share: a Flask app served on a loopback port from a thread, one lock
over the emulator's in-memory objects, and an outbox of signed webhooks delivered in order.

An emulator speaks the subset of its vendor's HTTP API the product uses, so the vendor's official SDK, pointed at
`base_url` by configuration, talks to it as to the vendor. Its hosted payment page lets a person (or a browser test)
pay or decline. Webhooks are queued when the vendor would send them and delivered by `flush()` — tests call it
where a real provider's delivery would arrive, `make run` flushes every half second (`auto_flush`) — to a
`deliver` callable: `http_deliverer(url)` posts them to the running API, tests hand them to the Chalice test client.
"""

from __future__ import annotations

import argparse
import threading
import urllib.request
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

Deliver = Callable[[dict[str, str], bytes], int]  # (headers, raw body) → the receiver's HTTP status
LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class Delivery:
    headers: dict[str, str]
    body: bytes
    status: int | None = None


class Emulator(ABC):
    """Base of the vendor emulators: subclasses add their routes to `self.app` in `routes()`."""

    code = "emulator"

    def __init__(self, deliver: Deliver | None = None) -> None:
        self.app = Flask(f"emulator-{self.code}")
        self.lock = threading.RLock()
        self.deliver = deliver
        self.delivered: list[Delivery] = []
        self._outbox: list[Delivery] = []
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._flusher: threading.Event | None = None
        self.base_url = ""
        self.routes()

    @abstractmethod
    def routes(self) -> None:
        """Add the vendor's API, the hosted page and the emulator's control routes to `self.app`."""

    # --- serving -----------------------------------------------------------------------------------------------

    def start(self, port: int = 0) -> str:
        """Serve on 127.0.0.1 (`port` 0: a free one); the base URL the SDK is pointed at."""
        self._server = make_server("127.0.0.1", port, self.app, threaded=True)
        self.base_url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"{self.code}-emulator", daemon=True)
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        if self._flusher is not None:
            self._flusher.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Emulator:
        if self._server is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- webhooks ------------------------------------------------------------------------------------------------

    def enqueue(self, headers: dict[str, str], body: bytes) -> None:
        with self.lock:
            self._outbox.append(Delivery(headers, body))

    def pending(self) -> list[Delivery]:
        with self.lock:
            return list(self._outbox)

    def flush(self) -> list[Delivery]:
        """Deliver the queued webhooks in order; a delivery the receiver did not take (non-2xx, or none to deliver
        to) stays queued, as the vendor would retry it."""
        with self.lock:
            queued, self._outbox = self._outbox, []
        done: list[Delivery] = []
        kept: list[Delivery] = []
        for item in queued:
            status = self.deliver(item.headers, item.body) if self.deliver is not None else None
            sent = Delivery(item.headers, item.body, status)
            if status is not None and 200 <= status < 300:
                done.append(sent)
            else:
                kept.append(item)
        with self.lock:
            self._outbox = kept + self._outbox
            self.delivered.extend(done)
        return done

    def auto_flush(self, interval: float = 0.5) -> None:
        """Deliver queued webhooks every `interval` seconds until `stop()` (for `make run`)."""
        stopped = threading.Event()
        self._flusher = stopped

        def loop() -> None:
            while not stopped.wait(interval):
                try:
                    self.flush()
                except OSError:
                    continue  # the API is not up yet: the webhooks stay queued

        threading.Thread(target=loop, name=f"{self.code}-webhooks", daemon=True).start()


def http_deliverer(url: str, timeout: float = 10.0) -> Deliver:
    """Post webhooks to `url` on this machine (an emulator never sends anything off it)."""
    host = urlsplit(url).hostname
    if host not in LOOPBACK:
        raise ValueError(f"emulator webhooks go to loopback addresses only, not {host}")

    def deliver(headers: dict[str, str], body: bytes) -> int:
        request = urllib.request.Request(url, data=body, method="POST", headers=headers)  # noqa: S310 - checked
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 - loopback only, checked
                return int(answer.status)
        except urllib.error.HTTPError as error:
            return int(error.code)

    return deliver


def command_line(description: str, port: int, argv: list[str] | None = None, **keys: str) -> argparse.Namespace:
    """The options of `python -m infra.emulators.<vendor>`: its port, where its webhooks go, and its keys."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--port", type=int, default=port)
    parser.add_argument("--webhook-url", default=None, help="where its webhooks go (a loopback URL)")
    for name, default in keys.items():
        parser.add_argument(f"--{name.replace('_', '-')}", default=default)
    return parser.parse_args(argv)


def deliverer_for(args: argparse.Namespace) -> Deliver | None:
    return http_deliverer(args.webhook_url) if args.webhook_url else None


def serve(emulator: Emulator, port: int) -> None:
    """Serve until Ctrl-C, delivering webhooks every half second when there is somewhere to deliver them."""
    print(f"{emulator.code} emulator on {emulator.start(port)}", flush=True)
    if emulator.deliver is not None:
        emulator.auto_flush()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        emulator.stop()
