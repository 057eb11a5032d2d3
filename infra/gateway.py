"""Make Chalice's local gateway route greedy `{name+}` paths the way API Gateway does.

API Gateway sends a request that matches no other resource to a `/{proxy+}` resource; Chalice's local route
matcher (used by `chalice local` and `chalice.test.Client`) only knows one-segment parameters and answers such
requests itself with 403 "Missing Authentication Token". The app declares `/{proxy+}` to answer unknown paths
with 404 `{"error":"Not found"}`; this shim gives the local gateway the same fallback so local runs and tests
see what AWS clients see. It changes nothing in Lambda, where API Gateway does the routing.
"""

from __future__ import annotations

from typing import Any

_INSTALLED = False


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
