"""A buyer pays in a real browser (Debian's headless Chromium, driven by Playwright): a small frontend page on a
loopback port checks out through the running `make run` API, is sent to the local Stripe emulator's hosted page,
pays — or declines — and comes back to the frontend, whose success page polls the session status until the invoice
is PAID (checkout-and-payments.md §5.4, §10.1, §10.4)."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from chalicelib.core.ids import seed_id
from tests.e2e.conftest import LocalStack

pytestmark = pytest.mark.e2e
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
BUYER = {"email": "user.de@demo.local", "password": "DemoPass123!"}

# The frontend: `/` buys 100 tokens with Stripe and follows the pay's redirect; the success page polls the
# session status; the cancel page shows the invoice as it stayed. The API's base comes in the query string.
PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Shop</title></head><body>
<p id="status">working</p>
<script>
const params = new URLSearchParams(location.search);
const api = params.get("api") || localStorage.getItem("api");
localStorage.setItem("api", api);
const show = (text) => { document.getElementById("status").textContent = text; };
async function call(method, path, body) {
  const headers = {"Content-Type": "application/json"};
  const token = localStorage.getItem("token");
  if (token) headers["Authorization"] = "Bearer " + token;
  const answer = await fetch(api + path, {method, headers, body: body ? JSON.stringify(body) : undefined});
  return [answer.status, await answer.json()];
}
async function buy() {
  const [, login] = await call("POST", "/api/v1/auth/login", __BUYER__);
  localStorage.setItem("token", login.token);
  const [, order] = await call("POST", "/api/v1/user/checkout",
                               {token_bundle_ids: [__BUNDLE__], payment_method_code: "stripe"});
  localStorage.setItem("invoice", order.invoice.id);
  const [status, paying] = await call("POST", "/api/v1/user/invoices/" + order.invoice.id + "/pay", {});
  if (status !== 202) { show("pay answered " + status); return; }
  location.href = paying.payment.redirect_url;
}
async function success() {
  const session = params.get("session_id");
  for (let i = 0; i < 60; i++) {
    const [, state] = await call("GET", "/api/v1/plugins/stripe/session-status/" + session);
    if (state.status === "paid") { show(state.invoice_status); return; }
    await new Promise((r) => setTimeout(r, 500));
  }
  show("never paid");
}
async function cancelled() {
  const [, body] = await call("GET", "/api/v1/user/invoices/" + localStorage.getItem("invoice"));
  show("cancelled " + body.invoice.status);
}
const page = location.pathname;
(page.endsWith("/success") ? success() : page.endsWith("/cancel") ? cancelled() : buy())
  .catch((error) => show("error " + error));
</script></body></html>"""


@pytest.fixture(scope="module")
def frontend() -> Iterator[str]:
    body = (
        PAGE.replace("__BUYER__", json.dumps(BUYER)).replace("__BUNDLE__", json.dumps(seed_id("bundle", "100 Tokens")))
    ).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    assert CHROMIUM is not None, "chromium is not installed: `make e2e` installs Debian's chromium when run as root"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        try:
            yield launched
        finally:
            launched.close()


def only_loopback(route: Any) -> None:
    """The browser may reach this machine only (nothing leaves it, even a mistaken redirect)."""
    host = route.request.url.split("/")[2].split(":")[0]
    if host in ("127.0.0.1", "localhost"):
        route.continue_()
    else:
        route.abort()


def invoice_status(local_stack: LocalStack, invoice_id: str) -> str:
    token = requests.post(local_stack.url("/api/v1/auth/login"), json=BUYER, timeout=30).json()["token"]
    answer = requests.get(
        local_stack.url(f"/api/v1/user/invoices/{invoice_id}"), headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    return str(answer.json()["invoice"]["status"])


@pytest.mark.parametrize(
    ("button", "shown", "stored"), [("pay", "PAID", "PAID"), ("decline", "cancelled PENDING", "PENDING")]
)
def test_a_buyer_pays_or_declines_on_the_stripe_page_and_comes_back(
    local_stack: LocalStack, frontend: str, browser: Any, button: str, shown: str, stored: str
) -> None:
    context = browser.new_context()
    context.route("**/*", only_loopback)
    page = context.new_page()
    try:
        page.goto(f"{frontend}/?api={local_stack.api}")
        page.wait_for_url("**/pay/cs_*", timeout=30_000)
        assert "Pay" in page.inner_text("#pay")
        page.click(f"#{button}")
        page.wait_for_url(f"{frontend}/pay/stripe/{'success' if button == 'pay' else 'cancel'}*", timeout=30_000)
        page.wait_for_function(
            "expected => document.getElementById('status').textContent === expected", arg=shown, timeout=30_000
        )
        invoice_id = page.evaluate("localStorage.getItem('invoice')")
    finally:
        context.close()
    assert invoice_status(local_stack, invoice_id) == stored
