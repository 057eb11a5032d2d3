"""Plain-text mail templates, named after the event that sends them."""

from __future__ import annotations

from typing import Any

Rendered = tuple[str, str]


def welcome(data: dict[str, Any]) -> Rendered:
    return (
        "Welcome to VBWD",
        f"Hello,\n\nyour account {data['email']} is ready. You can log in and choose a plan at any time.\n",
    )


def password_reset(data: dict[str, Any]) -> Rendered:
    return (
        "Reset your password",
        "Hello,\n\nsomeone asked to reset the password of this account. If it was you, open this link within "
        f"one hour:\n\n{data['reset_url']}\n\nIf it was not you, ignore this message; your password stays as it is.\n",
    )


def password_changed(data: dict[str, Any]) -> Rendered:
    how = {"change": "changed from your account settings", "reset": "reset with an e-mailed link"}.get(
        str(data.get("via")), "changed by an administrator"
    )
    return (
        "Your password was changed",
        f"Hello,\n\nthe password of your account was {how}. If this was not you, reset it now and contact us.\n",
    )


def account_locked(data: dict[str, Any]) -> Rendered:
    return (
        "Too many failed sign-in attempts",
        "Hello,\n\nafter repeated failed sign-in attempts, logins to your account are paused until "
        f"{data['until']}. If these attempts were not yours, consider changing your password.\n",
    )


def session_reuse(data: dict[str, Any]) -> Rendered:
    return (
        "A session of yours was ended for safety",
        "Hello,\n\nan old sign-in token of your account was used again, which can mean it was copied. We ended "
        "that session; sign in again on your devices. If you did not expect this, change your password.\n",
    )


def receipt(data: dict[str, Any]) -> Rendered:
    return (
        f"Receipt for invoice {data['invoice_number']}",
        f"Hello {data.get('user_name') or ''},\n\nthank you for your payment of {data['amount']} {data['currency']} "
        f"on {data['paid_date']} (reference {data['payment_reference']}). Invoice {data['invoice_number']} is "
        "paid; the document is attached.\n",
    )


def invoice_issued(data: dict[str, Any]) -> Rendered:
    return (
        f"Invoice {data['invoice_number']}",
        f"Hello,\n\ninvoice {data['invoice_number']} over {data['total_amount']} {data['currency']} is attached"
        + (f" and due on {str(data['due_date'])[:10]}" if data.get("due_date") else "")
        + ". Please quote the invoice number with your transfer.\n",
    )


def trial_will_end(data: dict[str, Any]) -> Rendered:
    pay_link = f"/invoices/{data['invoice_id']}" if data.get("invoice_id") else "/subscriptions"
    return (
        f"Your {data.get('plan_name') or 'trial'} trial ends soon",
        f"Hello,\n\nyour trial of {data.get('plan_name') or 'your plan'} ends on {str(data.get('trial_end_at'))[:10]}. "
        f"To keep it without a gap, pay the first invoice now — the remaining trial days are kept:\n\n{pay_link}\n",
    )


def payment_failed(data: dict[str, Any]) -> Rendered:
    retry = data.get("next_retry_at")
    then = (
        f"We will try again on {str(retry)[:10]}."
        if retry
        else "This was the last attempt; the subscription ends unless the invoice is paid."
    )
    return (
        f"Payment for {data.get('plan_name') or 'your subscription'} did not go through",
        f"Hello,\n\nwe could not collect the renewal of {data.get('plan_name') or 'your subscription'} "
        f"(attempt {data.get('attempt')}: {data.get('error_message') or 'declined'}). Your access continues for now. "
        f"{then} You can pay the invoice at any time:\n\n/invoices/{data['invoice_id']}\n",
    )


def subscription_expired(data: dict[str, Any]) -> Rendered:
    why = {
        "trial_unpaid": "its trial ended without a payment",
        "dunning_exhausted": "its renewal could not be collected",
        "period_end": "its last period ended",
    }.get(str(data.get("reason")), "it ended")
    return (
        f"Your {data.get('plan_name') or ''} subscription has ended".replace("  ", " "),
        f"Hello,\n\nyour subscription to {data.get('plan_name') or 'your plan'} has ended because {why}. "
        "You can subscribe again at any time.\n",
    )
