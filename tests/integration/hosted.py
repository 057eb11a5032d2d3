"""The provider emulators wired to the app under test: their webhooks go to the Chalice test client, the app's
providers are pointed at them by the environment, and a buyer presses the hosted page's buttons over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

import pytest
import requests

from chalicelib.catalog.models import PaymentMethodItem
from chalicelib.core.config import reload_settings
from chalicelib.core.ids import seed_id
from infra.emulators.base import Deliver
from infra.emulators.providers import Emulated, start
from tests.integration.buyers import change, set_plugin
from tests.integration.conftest import Api, drain_events

HOSTED = ("stripe", "paypal", "yookassa")


def deliverer(api: Api, code: str) -> Deliver:
    def deliver(headers: dict[str, str], body: bytes) -> int:
        answer = api.request("POST", f"/api/v1/plugins/{code}/webhook", body=body, headers=headers)
        return answer.status

    return deliver


@contextmanager
def emulators(api: Api) -> Iterator[dict[str, Emulated]]:
    started = {e.code: e for e in start(lambda code: deliverer(api, code))}
    try:
        yield started
    finally:
        for emulated in started.values():
            emulated.emulator.stop()


def configure(monkeypatch: pytest.MonkeyPatch, started: dict[str, Emulated], *without: str) -> None:
    """The app's providers pointed at the emulators (all but `without`), every provider plugin enabled."""
    for emulated in started.values():
        for name, value in emulated.environment.items():
            if emulated.code in without:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)
    reload_settings()
    for code in HOSTED:
        set_plugin(code, True)
    yookassa = PaymentMethodItem.key(seed_id("payment_method", "yookassa"))
    change(PaymentMethodItem, *yookassa, is_active=True)  # seeded inactive


class _Forms(HTMLParser):
    """The hosted page's forms: action, hidden inputs, and the id of the button each holds."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form":
            self.forms.append({"action": values.get("action") or "", "fields": {}, "buttons": set()})
        elif self.forms and tag == "input" and values.get("name"):
            self.forms[-1]["fields"][values["name"]] = values.get("value") or ""
        elif self.forms and tag == "button" and values.get("id"):
            self.forms[-1]["buttons"].add(values["id"])


def press(page_url: str, button: str) -> requests.Response:
    """What a buyer's browser does: load the hosted page, submit the form holding `button` (`pay`, `decline`);
    the redirect back is not followed (it points at a frontend that is not running)."""
    page = requests.get(page_url, timeout=10)
    assert page.status_code == 200, page.text
    parser = _Forms()
    parser.feed(page.text)
    form = next(f for f in parser.forms if button in f["buttons"])
    return requests.post(urljoin(page.url, form["action"]), data=form["fields"], timeout=10, allow_redirects=False)


def deliver_webhooks(started: dict[str, Emulated]) -> int:
    """The providers' queued webhooks delivered, then what they stored applied by the worker."""
    delivered = sum(len(e.emulator.flush()) for e in started.values())
    drain_events()
    drain_events()
    return delivered


def set_declining(emulated: Emulated, on: bool) -> None:
    """Every future off-session charge at this provider declined (or accepted again)."""
    emulator: Any = emulated.emulator
    if emulated.code == "stripe":
        emulator.decline_off_session(None, on=on)
    elif emulated.code == "paypal":
        emulator.decline_off_session(None, decline=on)
    elif on:
        emulator.decline_off_session(None)
    else:
        emulator.accept_off_session(None)


def outage(emulated: Emulated, calls: int) -> None:
    """The provider's next `calls` API calls answer 500; `calls` 0 ends an outage."""
    emulator: Any = emulated.emulator
    with emulator.lock:
        emulator._failures.clear()
    if calls:
        emulator.fail_next(count=calls, status=500)
