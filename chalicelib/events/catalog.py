"""Event payloads emitted so far (contract events.md §2). Field names are the contract's `data` keys."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from chalicelib.events.envelope import EventData


@dataclass(frozen=True)
class UserRegistered(EventData):
    TYPE = "user.registered"
    SOURCE = "vbwd.users"
    user_id: str
    email: str
    source: Literal["self", "admin"]


@dataclass(frozen=True)
class UserUpdated(EventData):
    TYPE = "user.updated"
    SOURCE = "vbwd.users"
    user_id: str
    changed_fields: list[str]


@dataclass(frozen=True)
class PasswordResetRequested(EventData):
    TYPE = "user.password_reset_requested"
    SOURCE = "vbwd.users"
    WEBHOOK = False  # carries the reset link, a secret
    user_id: str
    email: str
    reset_url: str
    expires_at: str


@dataclass(frozen=True)
class PasswordChanged(EventData):
    TYPE = "user.password_changed"
    SOURCE = "vbwd.users"
    user_id: str
    via: Literal["change", "reset", "admin"]


@dataclass(frozen=True)
class LoginFailed(EventData):
    TYPE = "auth.login_failed"
    SOURCE = "vbwd.auth"
    WEBHOOK = False
    email: str
    ip: str
    failure_count: int


@dataclass(frozen=True)
class AccountLocked(EventData):
    TYPE = "auth.locked"
    SOURCE = "vbwd.auth"
    WEBHOOK = False
    email: str
    until: str


@dataclass(frozen=True)
class LoggedOut(EventData):
    TYPE = "auth.logout"
    SOURCE = "vbwd.auth"
    WEBHOOK = False
    user_id: str
    sid: str


@dataclass(frozen=True)
class RefreshReuseDetected(EventData):
    TYPE = "auth.refresh_reuse_detected"
    SOURCE = "vbwd.auth"
    WEBHOOK = False
    user_id: str
    family_id: str
    ip: str
