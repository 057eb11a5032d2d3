"""The `mail` consumer: turns events into e-mails (contract events.md §2, consumer `mail`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib.core.logging import logger
from chalicelib.notifications import templates
from chalicelib.notifications.mail import send_email


def _given_email(data: dict[str, Any]) -> str | None:
    return str(data["email"]) if data.get("email") else None


def _account_of_user(data: dict[str, Any]) -> str | None:
    from chalicelib.users.repository import find_user

    user = find_user(str(data.get("user_id", "")))
    return user.email if user else None


def _account_of_email(data: dict[str, Any]) -> str | None:
    """auth.locked names an e-mail that may belong to no account; only real accounts are told."""
    from chalicelib.users.repository import find_user_by_email

    user = find_user_by_email(str(data.get("email", "")))
    return user.email if user else None


@dataclass(frozen=True)
class Mail:
    template_name: str
    render: Callable[[dict[str, Any]], tuple[str, str]]
    recipient: Callable[[dict[str, Any]], str | None]


MAILS: dict[str, Mail] = {
    "user.registered": Mail("welcome", templates.welcome, _given_email),
    "user.password_reset_requested": Mail("password_reset", templates.password_reset, _given_email),
    "user.password_changed": Mail("password_changed", templates.password_changed, _account_of_user),
    "auth.locked": Mail("account_locked", templates.account_locked, _account_of_email),
    "auth.refresh_reuse_detected": Mail("session_reuse", templates.session_reuse, _account_of_user),
}


def handle_event(envelope: dict[str, Any]) -> None:
    mail = MAILS[envelope["type"]]
    data = envelope.get("data") or {}
    recipient = mail.recipient(data)
    if recipient is None:
        logger.info("mail skipped: no recipient", event_type=envelope["type"], event_id=envelope.get("id"))
        return
    subject, body = mail.render(data)
    send_email(recipient, subject, body, mail.template_name)
