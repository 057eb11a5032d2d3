"""Failed-login limit (contract auth.md §3.2) and the per-e-mail forgot-password limit.

The failure counter of an e-mail opens a 15-minute window at its first counted failure; once it holds 10
failures every login for that e-mail is refused until the window ends. Each failure is a conditional write on the
counter together with its `auth.login_failed` event (and `auth.locked` on the tenth), so concurrent failures are
all counted and the lock is announced once. The counters are read and written by `chalicelib.auth.repository`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib.auth import repository
from chalicelib.auth.models import LoginFailuresItem
from chalicelib.core import clock
from chalicelib.core.config import get_settings
from chalicelib.core.errors import RateLimited
from chalicelib.core.times import iso
from chalicelib.events.catalog import AccountLocked, LoginFailed
from chalicelib.events.envelope import Actor, Event
from chalicelib.events.outbox import record
from chalicelib.store.retry import retrying
from chalicelib.store.transactions import Transaction, TransactionCancelled

ATTEMPTS = 5


@dataclass(frozen=True)
class FailureWindow:
    item: LoginFailuresItem | None
    locked_until: datetime | None


def _window() -> timedelta:
    return timedelta(seconds=get_settings().login_failure_window_seconds)


def current(email: str, now: datetime) -> FailureWindow:
    item = repository.login_failures(email)
    if item is None:
        return FailureWindow(None, None)
    ends = item.first_at + _window()
    if ends <= now:
        return FailureWindow(None, None)
    locked = item.failures >= get_settings().login_failure_limit
    return FailureWindow(item, ends if locked else None)


def refuse_if_locked(window: FailureWindow, now: datetime) -> None:
    if window.locked_until is None:
        return
    seconds = max(1, math.ceil((window.locked_until - now).total_seconds()))
    raise RateLimited(
        "Rate limit exceeded",
        headers={"Retry-After": str(seconds)},
        message=f"Too many failed login attempts. Try again in {seconds} seconds.",
    )


def _counter_moved(exc: TransactionCancelled) -> bool:
    return "counter" in exc.failed or exc.conflict


def record_failure(email: str, ip: str) -> int:
    """Count one failed attempt for `email`; returns the count in the current window."""
    limit = get_settings().login_failure_limit

    def count() -> int:
        now = clock.now()
        window = current(email, now)
        tx = Transaction()
        if window.item is None:
            failures, first_at = 1, now
            repository.open_failure_window(tx, email, now, _window())
        else:
            failures, first_at = int(window.item.failures) + 1, window.item.first_at
            repository.count_failure(tx, window.item)
        events = [Event(LoginFailed(email=email, ip=ip, failure_count=failures), Actor("user", None))]
        if failures == limit:
            until = iso(first_at + _window()) or ""
            events.append(Event(AccountLocked(email=email, until=until), Actor.system("login-limit")))
        record(tx, *events)
        tx.commit()
        return failures

    # A refused counter means another failure of this e-mail was counted first: count again on top of it.
    return retrying(count, tries=ATTEMPTS, retry_on=_counter_moved)


def clear(email: str) -> None:
    repository.clear_login_failures(email)


def allow_reset_request(email: str) -> bool:
    return repository.count_reset_request(email, clock.now()) <= get_settings().forgot_password_per_hour
