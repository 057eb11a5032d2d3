"""Make Chalice's local gateway behave like API Gateway where clients can tell the difference.

Greedy routes:
API Gateway sends a request that matches no other resource to a `/{proxy+}` resource; Chalice's local route
matcher (used by `chalice local` and `chalice.test.Client`) only knows one-segment parameters and answers such
requests itself with 403 "Missing Authentication Token". The app declares `/{proxy+}` to answer unknown paths
with 404 `{"error":"Not found"}`; this shim gives the local gateway the same fallback so local runs and tests
see what AWS clients see. It changes nothing in Lambda, where API Gateway does the routing.

The server (`install_local_server`): chalice local is a `socketserver` HTTP server, which listens with a backlog of
5 connections — a burst of new connections past that (a browser, a load test, the fuzzer) sees resets and
second-long SYN retries API Gateway never gives. Its handler also announces `Server: BaseHTTP/0.6 Python/3.11.x`;
API Gateway names no software version. `make run` (infra/chalice_local.py) installs a server class with a deep
backlog and a handler that sends no `Server` header.
"""

from __future__ import annotations

from typing import Any

_INSTALLED = False
_SERVER_INSTALLED = False
LISTEN_BACKLOG = 1024  # the kernel caps it at net.core.somaxconn (4096 on current Linux)


def install_greedy_routes() -> None:
    global _INSTALLED
    if _INSTALLED:
        return
    from urllib.parse import parse_qs, urlparse

    import chalice.local as local

    base = local.RouteMatcher

    class GreedyRouteMatcher(base):  # type: ignore[misc, valid-type]
        def match_route(self, url: str) -> Any:
            try:
                return super().match_route(url)
            except ValueError:
                parsed = urlparse(url)
                path = parsed.path.rstrip("/") or "/"
                for route_url in self.route_urls:
                    prefix, _, last = route_url.rpartition("/")
                    if not (last.startswith("{") and last.endswith("+}")):
                        continue
                    if path.startswith(prefix + "/") and len(path) > len(prefix) + 1:
                        name = last[1:-2]
                        captured = {name: path[len(prefix) + 1 :]}
                        query = parse_qs(parsed.query, keep_blank_values=True)
                        return local.MatchResult(route_url, captured, query)
                raise

    local.RouteMatcher = GreedyRouteMatcher
    _INSTALLED = True


def install_local_server() -> None:
    """Make `chalice.local.create_local_server` build our server and handler classes (idempotent)."""
    global _SERVER_INSTALLED
    if _SERVER_INSTALLED:
        return
    import chalice.local as local

    class BurstServer(local.ThreadedHTTPServer):  # type: ignore[misc, valid-type]
        request_queue_size = LISTEN_BACKLOG

    class BannerlessHandler(local.ChaliceRequestHandler):  # type: ignore[misc, valid-type]
        def version_string(self) -> str:
            return ""

        def send_response(self, code: int, message: str | None = None) -> None:
            # BaseHTTPRequestHandler.send_response without its `Server` header.
            self.log_request(code)
            self.send_response_only(code, message)
            self.send_header("Date", self.date_time_string())

    class TunedLocalDevServer(local.LocalDevServer):  # type: ignore[misc, valid-type]
        def __init__(self, app_object: Any, config: Any, host: str, port: int, **_: Any) -> None:
            super().__init__(app_object, config, host, port, handler_cls=BannerlessHandler, server_cls=BurstServer)

    local.LocalDevServer = TunedLocalDevServer
    _SERVER_INSTALLED = True
