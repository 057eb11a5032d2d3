"""Failed-login limit (contract auth.md §3.2) and the per-e-mail forgot-password limit.

The failure counter of an e-mail opens a 15-minute window at its first counted failure; once it holds 10
failures every login for that e-mail is refused until the window ends. Each failure is a conditional write on the
counter together with its `auth.login_failed` event (and `auth.locked` on the tenth), so concurrent failures are
all counted and the lock is announced once.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from pynamodb.attributes import NumberAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist

from chalicelib.core import clock
from chalicelib.core.config import get_settings
from chalicelib.core.errors import Conflict, RateLimited
from chalicelib.core.times import iso
from chalicelib.events.catalog import AccountLocked, LoginFailed
from chalicelib.events.envelope import Actor, Event
from chalicelib.events.outbox import record
from chalicelib.store.base import RateLimitsTable
from chalicelib.store.retry import attempts
from chalicelib.store.transactions import Transaction, TransactionCancelled

ATTEMPTS = 5


class LoginFailuresItem(RateLimitsTable, discriminator="LOGIN_FAILURES"):
    """pk `LOGINFAIL#<email>`, sk `WINDOW`."""

    failures = NumberAttribute()
    first_at = UTCDateTimeAttribute()

    @classmethod
    def key(cls, email: str) -> tuple[str, str]:
        return f"LOGINFAIL#{email}", "WINDOW"


@dataclass(frozen=True)
class FailureWindow:
    item: LoginFailuresItem | None
    locked_until: datetime | None


def _window() -> timedelta:
    return timedelta(seconds=get_settings().login_failure_window_seconds)


def current(email: str, now: datetime) -> FailureWindow:
    try:
        item = LoginFailuresItem.get(*LoginFailuresItem.key(email), consistent_read=True)
    except DoesNotExist:
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


def record_failure(email: str, ip: str) -> int:
    """Count one failed attempt for `email`; returns the count in the current window."""
    limit = get_settings().login_failure_limit
    for _ in attempts(ATTEMPTS):
        now = clock.now()
        window = current(email, now)
        pk, sk = LoginFailuresItem.key(email)
        tx = Transaction()
        if window.item is None:
            count = 1
            item = LoginFailuresItem(pk=pk, sk=sk, failures=1, first_at=now, ttl=now + _window() + timedelta(hours=1))
            stale = LoginFailuresItem.first_at <= now - _window()
            tx.put(item, LoginFailuresItem.pk.does_not_exist() | stale, label="counter")
            first_at = now
        else:
            count = int(window.item.failures) + 1
            first_at = window.item.first_at
            tx.update(
                window.item,
                [LoginFailuresItem.failures.set(count)],
                LoginFailuresItem.failures == window.item.failures,
                label="counter",
            )
        events = [Event(LoginFailed(email=email, ip=ip, failure_count=count), Actor("user", None))]
        if count == limit:
            until = iso(first_at + _window()) or ""
            events.append(Event(AccountLocked(email=email, until=until), Actor.system("login-limit")))
        record(tx, *events)
        try:
            tx.commit()
            return count
        except TransactionCancelled as exc:
            if "counter" in exc.failed or exc.conflict:
                continue
            raise
    raise Conflict("Concurrent modification, please retry")


def clear(email: str) -> None:
    with contextlib.suppress(DoesNotExist):
        LoginFailuresItem(*LoginFailuresItem.key(email)).delete()


class ForgotPasswordItem(RateLimitsTable, discriminator="FORGOT_PASSWORD"):
    """pk `FORGOT#<email>#<UTC hour>`: reset requests per e-mail per hour."""

    requests = NumberAttribute(default=0)


def allow_reset_request(email: str) -> bool:
    now = clock.now()
    hour = now.replace(minute=0, second=0, microsecond=0)
    item = ForgotPasswordItem(f"FORGOT#{email}#{hour:%Y%m%d%H}", "WINDOW")
    item.update(
        actions=[ForgotPasswordItem.requests.add(1), ForgotPasswordItem.ttl.set(hour + timedelta(hours=2))],
    )
    return int(item.requests) <= get_settings().forgot_password_per_hour
