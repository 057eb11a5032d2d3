"""The API's own description: `GET /api/v1/openapi.json` in every stage, and in the `local` stage an interactive
page at `GET /api/v1/docs` (Swagger UI, served from the installed `swagger-ui-py` package — no CDN)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from chalice.app import Blueprint, Response

from chalicelib.core.config import get_settings
from chalicelib.core.errors import NotFound
from chalicelib.http.ratelimit import LimitScope
from chalicelib.http.request import Req
from chalicelib.http.routing import route

bp = Blueprint(__name__)
ASSETS = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "application/javascript; charset=utf-8",
    "swagger-ui-standalone-preset.js": "application/javascript; charset=utf-8",
}
PAGE_POLICY = (
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>VBWD Serverless API</title>
<link rel="stylesheet" href="docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="docs/swagger-ui-bundle.js"></script>
<script src="docs/swagger-ui-standalone-preset.js"></script>
<script>
window.ui = SwaggerUIBundle({
  url: "openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: "StandaloneLayout"
});
</script>
</body>
</html>
"""


@route(bp, "/openapi.json", "GET", limit=LimitScope.NONE, hidden=True)
def openapi(req: Req) -> Any:
    """The OpenAPI 3.1 document of this API."""
    from chalicelib.http.openapi import document

    return document(get_settings().service_version)


def _local_only() -> None:
    if get_settings().stage != "local":
        raise NotFound("Not found")


@route(bp, "/docs", "GET", limit=LimitScope.NONE, hidden=True)
def docs_page(req: Req) -> Any:
    """Interactive API documentation (local stage only)."""
    _local_only()
    # Relative asset and document URLs need the page to end in a slash-free path: /api/v1/docs → /api/v1/docs/…
    page = PAGE.replace('href="docs/', 'href="/api/v1/docs/').replace('src="docs/', 'src="/api/v1/docs/')
    page = page.replace('url: "openapi.json"', 'url: "/api/v1/openapi.json"')
    return Response(
        body=page,
        status_code=200,
        headers={"Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": PAGE_POLICY},
    )


@route(bp, "/docs/{asset}", "GET", limit=LimitScope.NONE, hidden=True)
def docs_asset(req: Req, asset: str) -> Any:
    """A static file of the documentation page (local stage only)."""
    _local_only()
    if asset not in ASSETS:
        raise NotFound("Not found")
    return Response(body=_asset(asset), status_code=200, headers={"Content-Type": ASSETS[asset]})


def _asset(name: str) -> str:
    """Read from the package's files without importing it (it would import its web-framework glue)."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or spec.origin is None:  # a development dependency: the page exists where it is installed
        raise NotFound("Not found")
    return (Path(spec.origin).parent / "static" / name).read_text(encoding="utf-8")
