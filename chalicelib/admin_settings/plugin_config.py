"""The configuration of each plugin (admin.md §15) as a JSON Schema, with its secrets and the permission that may
change it besides `settings.system`.

Keys, defaults and rules come from the plugin's section of the contract (subscriptions.md §13, booking.md §7,
checkout-and-payments.md §10, admin.md §15 and §18); defaults the registry already names are taken from it.
Secret keys are `writeOnly` in the schema: stored, never shown (`"********"`), and `"********"` sent back keeps
the stored value.
"""

from __future__ import annotations

from typing import Any

from chalicelib.plugins.registry import PLUGINS

MASK = "********"
BOOL: dict[str, Any] = {"type": "boolean"}
SECRET: dict[str, Any] = {"type": "string", "maxLength": 500, "writeOnly": True}


def _int(low: int, high: int) -> dict[str, Any]:
    return {"type": "integer", "minimum": low, "maximum": high}


def _text(limit: int = 500, **rules: Any) -> dict[str, Any]:
    return {"type": "string", "maxLength": limit, **rules}


def _ints(low: int, high: int) -> dict[str, Any]:
    return {"type": "array", "items": _int(low, high), "maxItems": 20}


def _choice(*values: str) -> dict[str, Any]:
    return {"type": "string", "enum": list(values)}


def _keys(prefix: str, **keys: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f"{prefix}{name}": rule for name, rule in keys.items()}


_STRIPE = {"sandbox": BOOL}
_PAYPAL = {"sandbox": BOOL}
for _mode in ("test_", "live_"):
    _STRIPE |= _keys(_mode, publishable_key=_text(), secret_key=SECRET, webhook_secret=SECRET)
    _PAYPAL |= _keys(_mode, client_id=_text(), client_secret=SECRET, webhook_id=_text())

PROPERTIES: dict[str, dict[str, dict[str, Any]]] = {
    "email": {
        "from_address": _text(254, format="email", pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
        "from_name": _text(100),
        "sms_sender_id": _text(11),
        "sms_enabled": BOOL,
    },
    "subscription": {
        "expiration_check_interval_seconds": _int(10, 86400),
        "renewal_lead_time_hours": _int(0, 720),
        "dunning_retry_days": _ints(1, 90),
        "trial_reminder_days": _int(0, 90),
        "allow_downgrade": BOOL,
        "proration_enabled": BOOL,
        "max_subscriptions_per_user": _int(1, 1000),
        "fallback_access_level_slug": _text(100, pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$"),
    },
    "booking": {
        "default_timezone": _text(64, pattern=r"^[A-Za-z_]+(/[A-Za-z0-9_+-]+)*$"),
        "max_advance_booking_days": _int(1, 3650),
        "min_lead_time_hours": _int(0, 720),
        "cancellation_grace_period_hours": _int(0, 720),
        "default_confirmation_mode": _choice("auto", "manual"),
        "default_slot_duration_minutes": _int(5, 1440),
        "default_buffer_minutes": _int(0, 1440),
        "invoice_prefix": _text(10, pattern=r"^[A-Z0-9]{1,10}$"),
        "enable_recurring_bookings": {"const": False},  # not supported: true is refused (booking.md §7)
        "max_bookings_per_user_per_day": _int(1, 1000),
        "capture_mode": _choice("auto", "manual"),
        "max_authorization_hours": _int(1, 168),
        "hold_minutes": _int(1, 1440),
        "provider_session_hold_minutes": _int(1, 1440),
        "max_active_holds_per_user": _int(1, 1000),
        "refund_on_cancel": BOOL,
        "deposit_percent": _int(0, 100),
        "slot_interval_minutes": _int(5, 1440),
        "require_verified_vaccinations": BOOL,
        "reminder_offsets_minutes": _ints(1, 43200),
        "reminder_channels": {"type": "array", "items": _choice("email", "sms"), "uniqueItems": True},
        "completion_check_interval_seconds": _int(60, 86400),
    },
    "analytics": {},
    "webhooks": {
        "timeout_seconds": _int(1, 60),
        "retry_schedule_minutes": _ints(1, 1440),
        "max_endpoints": _int(1, 1000),
        "allow_http_in_local": BOOL,
    },
    "stripe": _STRIPE,
    "paypal": _PAYPAL,
    "yookassa": {
        "shop_id": _text(100),
        "secret_key": SECRET,
        "test": BOOL,
        "allowed_ips": {"type": "array", "items": _text(64), "maxItems": 100},
    },
    "sandbox": {},
}

BOOKING_DEFAULTS: dict[str, Any] = {
    "default_timezone": "Europe/Berlin",
    "max_advance_booking_days": 90,
    "min_lead_time_hours": 1,
    "cancellation_grace_period_hours": 24,
    "default_confirmation_mode": "auto",
    "default_slot_duration_minutes": 60,
    "default_buffer_minutes": 0,
    "invoice_prefix": "BK",
    "enable_recurring_bookings": False,
    "max_bookings_per_user_per_day": 5,
    "capture_mode": "auto",
    "max_authorization_hours": 144,
    "hold_minutes": 15,
    "provider_session_hold_minutes": 35,
    "max_active_holds_per_user": 20,
    "refund_on_cancel": False,
    "deposit_percent": 0,
    "slot_interval_minutes": 15,
    "require_verified_vaccinations": False,
    "reminder_offsets_minutes": [1440, 120],
    "reminder_channels": ["email", "sms"],
    "completion_check_interval_seconds": 900,
}

# Who may change a plugin's configuration besides `settings.system` (admin.md §15).
CONFIGURE_PERMISSION: dict[str, str] = {
    "subscription": "subscription.configure",
    "booking": "booking.configure",
    **dict.fromkeys(("stripe", "paypal", "yookassa", "sandbox"), "payments.configure"),
}


def defaults(name: str) -> dict[str, Any]:
    given = BOOKING_DEFAULTS if name == "booking" else PLUGINS[name].default_config
    return {key: value for key, value in given.items() if key in PROPERTIES[name]}


def secrets(name: str) -> set[str]:
    return {key for key, rule in PROPERTIES[name].items() if rule.get("writeOnly")}


def schema(name: str) -> dict[str, Any]:
    """The plugin's `configSchema`: an object of the known keys only, each with its default when it has one."""
    known = defaults(name)
    properties = {
        key: {**rule, **({"default": known[key]} if key in known else {})} for key, rule in PROPERTIES[name].items()
    }
    return {"type": "object", "properties": properties, "additionalProperties": False}


def _widget(rule: dict[str, Any]) -> str:
    if rule.get("writeOnly"):
        return "password"
    if "enum" in rule:
        return "select"
    return {"boolean": "toggle", "integer": "number", "array": "list"}.get(str(rule.get("type")), "text")


def admin_form(name: str) -> dict[str, Any]:
    """`adminConfig`: how the admin app draws the form (one field per key, in schema order)."""
    return {
        "fields": [
            {
                "key": key,
                "label": key.replace("_", " ").capitalize(),
                "widget": _widget(rule),
                "secret": bool(rule.get("writeOnly")),
                **({"options": rule["enum"]} if "enum" in rule else {}),
            }
            for key, rule in PROPERTIES[name].items()
        ]
    }


def masked(name: str, stored: dict[str, Any]) -> dict[str, Any]:
    """The saved configuration over the defaults; a secret that is set shows as the mask, one unset as null."""
    hidden = secrets(name)
    shown = {**defaults(name), **{k: v for k, v in stored.items() if k in PROPERTIES[name]}}
    for key in hidden:
        shown[key] = MASK if shown.get(key) else None
    return shown


def merged(name: str, stored: dict[str, Any], sent: dict[str, Any]) -> dict[str, Any]:
    """`sent` checked against the schema and laid over `stored`; a secret sent as the mask keeps its value.

    Raises `ValueError` with the contract's message for the first key that is unknown, then the first that is
    invalid (in the order they were sent)."""
    from jsonschema import Draft202012Validator

    properties = PROPERTIES[name]
    for key in sent:
        if key not in properties:
            raise ValueError(f"Unknown config key: {key}")
    hidden = secrets(name)
    result = dict(stored)
    for key, value in sent.items():
        if key in hidden and value == MASK:
            continue
        if not Draft202012Validator(properties[key]).is_valid(value):
            raise ValueError(f"Invalid config value for {key}")
        result[key] = value
    return result
