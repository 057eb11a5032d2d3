"""Where a provider's hosted page sends the buyer back (checkout-and-payments.md §10.1)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chalicelib.core.config import reload_settings
from chalicelib.payments.sessions import return_urls


@pytest.fixture
def origins(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("VBWD_STAGE", "local")
    monkeypatch.setenv("CORS_ALLOWED_ORIGINS", "https://shop.example,https://app.example")
    monkeypatch.setenv("FRONTEND_BASE_URL", "https://www.example")
    reload_settings()
    yield
    monkeypatch.undo()
    reload_settings()


@pytest.mark.usefixtures("origins")
@pytest.mark.parametrize(
    ("origin", "referer", "base"),
    [
        ("https://shop.example", None, "https://shop.example"),
        ("https://shop.example/", "https://app.example/pay/x", "https://shop.example"),
        ("https://evil.example", "https://app.example/checkout/pay/invoice/1", "https://app.example/checkout"),
        (None, "https://app.example/account/pay", "https://app.example/account"),
        (None, "javascript:alert(1)", "https://www.example"),
        ("null", None, "https://www.example"),
        (None, None, "https://www.example"),
    ],
)
def test_the_allowed_origin_then_the_referer_then_the_frontend_base(
    origin: str | None, referer: str | None, base: str
) -> None:
    urls = return_urls("stripe", origin, referer)
    assert urls.success == f"{base}/pay/stripe/success?session_id={{SESSION_ID}}"
    assert urls.cancel == f"{base}/pay/stripe/cancel"


def test_the_local_stage_accepts_any_web_origin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CORS_ALLOWED_ORIGINS", raising=False)
    reload_settings()
    try:
        assert return_urls("paypal", "http://127.0.0.1:5173", None).cancel == "http://127.0.0.1:5173/pay/paypal/cancel"
    finally:
        reload_settings()
