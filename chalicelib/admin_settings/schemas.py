"""Request bodies and query strings of the admin settings routes (admin.md §10–§16).

Bodies type and normalize what they carry and refuse with the contract's messages; whether a referenced record
exists (a country, a tax class, a plan) is the service's to decide against the catalog. Update bodies are the
create bodies with nothing required: a service applies only the fields that were sent (`model_fields_set`).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, ClassVar

from pydantic import ConfigDict, Field, field_validator, model_validator

from chalicelib.core.errors import BadRequest
from chalicelib.core.money import parse_decimal
from chalicelib.core.validation import Body, QueryString, refuse, rule
from chalicelib.core.validation import NoBody as NoBody  # re-exported: the routes name every body here
from chalicelib.plugins.registry import PLUGINS

PAYMENT_CODE = re.compile(r"^[a-z0-9_-]{1,50}$")
LOCALE = re.compile(r"^[a-z]{2,3}([-_][A-Za-z]{2,4})?$")
SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
FEE_TYPES = ("none", "fixed", "percentage")
FEE_PAYERS = ("customer", "merchant")


def plain_json(value: Any) -> Any:
    """A parsed body's value as JSON storage takes it: fractions the parser made `Decimal` become floats (free-form
    objects such as a method's `config` or a manifest carry no money)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {str(key): plain_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain_json(item) for item in value]
    return value


class FreeObject(Body):
    """A body that is a JSON object of any keys (a plugin's configuration, a frontend manifest), checked by the
    service against what it must hold."""

    model_config = ConfigDict(extra="allow", defer_build=True)


class Partial(Body):
    """A body whose update form applies only the fields that were sent."""

    def sent(self) -> dict[str, Any]:
        """The fields the request named, normalized, in declaration order."""
        return {name: getattr(self, name) for name in type(self).model_fields if name in self.model_fields_set}


def _named(value: Any, missing: str, limit: int) -> str:
    """A required name-like text, trimmed; `missing` when it is absent or blank."""
    if _blank(value):
        raise refuse(missing)
    return str(_text(str(value).strip(), "name", limit))


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _decimal(value: Any, message: str, *, low: Decimal | None = None, high: Decimal | None = None) -> Decimal:
    try:
        number = parse_decimal(value)
    except ValueError:
        raise refuse(message) from None
    if (low is not None and number < low) or (high is not None and number > high):
        raise refuse(message)
    return number


def _flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise refuse(f"Invalid value for {name}")
    return value


def _codes(value: Any, name: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(code, str) for code in value):
        raise refuse(f"{name} must be a list")
    return [code.strip().upper() for code in value]


def _text(value: Any, name: str, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise refuse(f"Invalid {name}")
    return value


# --- §10 payment methods -----------------------------------------------------------------------------------------


class PaymentMethodBody(Partial):
    """Every field of a payment method; a PUT sends any of them (`is_default` is ignored there)."""

    code: Any = None
    name: Any = None
    description: Any = None
    short_description: Any = None
    icon: Any = None
    plugin_id: Any = None
    is_active: Any = True
    is_default: Any = False
    position: Any = 0
    min_amount: Any = None
    max_amount: Any = None
    currencies: Any = Field(default_factory=list)
    countries: Any = Field(default_factory=list)
    fee_type: Any = "none"
    fee_amount: Any = Decimal(0)
    fee_charged_to: Any = "customer"
    config: Any = Field(default_factory=dict)
    instructions: Any = None

    @field_validator("code")
    @classmethod
    def _code(cls, value: Any) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str) or not PAYMENT_CODE.match(value):
            raise refuse("Invalid code")
        return value

    @field_validator("name")
    @classmethod
    def _name(cls, value: Any) -> str:
        return _named(value, "Name is required", 100)

    @field_validator("description", "short_description", "icon", "instructions")
    @classmethod
    def _texts(cls, value: Any) -> str | None:
        return _text(value, "text", 5000)

    @field_validator("fee_type")
    @classmethod
    def _fee_type(cls, value: Any) -> str:
        if value not in FEE_TYPES:
            raise refuse(f"Invalid fee_type: {value}")
        return str(value)

    @field_validator("fee_amount")
    @classmethod
    def _fee_amount(cls, value: Any) -> Decimal:
        return _decimal(value, "Invalid fee amount", low=Decimal(0))

    @field_validator("fee_charged_to")
    @classmethod
    def _fee_charged_to(cls, value: Any) -> str:
        if value not in FEE_PAYERS:
            raise refuse(f"Invalid fee_charged_to: {value}")
        return str(value)

    @field_validator("min_amount")
    @classmethod
    def _min_amount(cls, value: Any) -> Decimal | None:
        return None if value is None else _decimal(value, "Invalid min_amount", low=Decimal(0))

    @field_validator("max_amount")
    @classmethod
    def _max_amount(cls, value: Any) -> Decimal | None:
        return None if value is None else _decimal(value, "Invalid max_amount", low=Decimal(0))

    @field_validator("plugin_id")
    @classmethod
    def _plugin(cls, value: Any) -> str | None:
        if value is None or value == "":
            return None
        if value not in PLUGINS:
            raise refuse(f"Unknown plugin: {value}")
        return str(value)

    @field_validator("config")
    @classmethod
    def _config(cls, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise refuse("Config must be an object")
        return dict(plain_json(value))

    @field_validator("is_active", "is_default")
    @classmethod
    def _flags(cls, value: Any) -> bool:
        return _flag(value, "is_active")

    @field_validator("position")
    @classmethod
    def _position(cls, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise refuse("Invalid position")
        return value

    @field_validator("currencies", "countries")
    @classmethod
    def _lists(cls, value: Any) -> list[str]:
        return _codes(value, "codes")

    @model_validator(mode="after")
    def _range(self) -> PaymentMethodBody:
        if self.min_amount is not None and self.max_amount is not None and self.min_amount > self.max_amount:
            raise refuse("min_amount cannot exceed max_amount")
        return self


class NewPaymentMethodBody(PaymentMethodBody):
    @model_validator(mode="before")
    @classmethod
    def _required(cls, data: Any) -> Any:
        if isinstance(data, dict):
            if _blank(data.get("code")):
                raise refuse("Code is required")
            if not isinstance(data["code"], str) or not PAYMENT_CODE.match(data["code"]):
                raise refuse("Invalid code")
            if _blank(data.get("name")):
                raise refuse("Name is required")
        return data


class ReorderBody(Body):
    order: Any = None

    @field_validator("order")
    @classmethod
    def _order(cls, value: Any) -> list[tuple[str, int]]:
        if not isinstance(value, list) or not value:
            raise refuse("Order list is required")
        order = []
        for entry in value:
            if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
                raise refuse("Order list is required")
            position = entry.get("position")
            if isinstance(position, bool) or not isinstance(position, int) or position < 0:
                raise refuse("Invalid position")
            order.append((entry["id"], position))
        return order

    @model_validator(mode="before")
    @classmethod
    def _present(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("order"):
            raise refuse("Order list is required")
        return data


class TranslationBody(Body):
    locale: Any = None
    name: Any = None
    description: Any = None
    short_description: Any = None
    instructions: Any = None

    @field_validator("locale")
    @classmethod
    def _locale(cls, value: Any) -> str:
        if not isinstance(value, str) or not LOCALE.match(value.strip()):
            raise refuse("Invalid locale")
        return value.strip()

    @field_validator("name", "description", "short_description", "instructions")
    @classmethod
    def _texts(cls, value: Any) -> str | None:
        return _text(value, "text", 5000)

    @model_validator(mode="before")
    @classmethod
    def _required(cls, data: Any) -> Any:
        if isinstance(data, dict) and _blank(data.get("locale")):
            raise refuse("Locale is required")
        return data


# --- §11 countries -----------------------------------------------------------------------------------------------


class CountryReorderBody(Body):
    codes: Any = None

    @field_validator("codes")
    @classmethod
    def _codes(cls, value: Any) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(code, str) for code in value):
            raise refuse("codes must be a list")
        if not value:
            raise refuse("codes list required")
        return [code.strip().upper() for code in value]

    @model_validator(mode="before")
    @classmethod
    def _present(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("codes") is None:
            raise refuse("codes list required")
        return data


# --- §12 currencies ----------------------------------------------------------------------------------------------


class CurrencyBody(Partial):
    name: Any = None
    symbol: Any = None
    exchange_rate: Any = Decimal("1.000000")
    decimal_places: Any = 2
    is_active: Any = True

    @field_validator("name")
    @classmethod
    def _name(cls, value: Any) -> str:
        return _named(value, "Name is required", 100)

    @field_validator("symbol")
    @classmethod
    def _symbol(cls, value: Any) -> str:
        return _named(value, "Symbol is required", 10)

    @field_validator("exchange_rate")
    @classmethod
    def _rate(cls, value: Any) -> Decimal:
        rate = _decimal(value, "Exchange rate must be positive")
        if rate <= 0:
            raise refuse("Exchange rate must be positive")
        return rate

    @field_validator("decimal_places")
    @classmethod
    def _places(cls, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 4:
            raise refuse("Invalid decimal places")
        return value

    @field_validator("is_active")
    @classmethod
    def _active(cls, value: Any) -> bool:
        return _flag(value, "is_active")


class NewCurrencyBody(CurrencyBody):
    code: Any = None

    @field_validator("code")
    @classmethod
    def _code(cls, value: Any) -> str:
        if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z]{3}", value.strip()):
            raise refuse("Invalid currency code")
        return value.strip().upper()

    @model_validator(mode="before")
    @classmethod
    def _required(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name, message in (("code", "Code is required"), ("name", "Name is required")):
                if _blank(data.get(name)):
                    raise refuse(message)
            if not isinstance(data["code"], str) or not re.fullmatch(r"[A-Za-z]{3}", data["code"].strip()):
                raise refuse("Invalid currency code")
            if _blank(data.get("symbol")):
                raise refuse("Symbol is required")
        return data


# --- §13 taxes ---------------------------------------------------------------------------------------------------


def _rate_percent(value: Any, message: str) -> Decimal:
    return _decimal(value, message, low=Decimal(0), high=Decimal(100))


class _Coded(Partial):
    """A tax record's name, code (cased as the kind stores it) and description."""

    UPPER_CODE: ClassVar[bool] = True
    name: Any = None
    code: Any = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: Any) -> str:
        return _named(value, "name and code are required", 100)

    @field_validator("code")
    @classmethod
    def _code(cls, value: Any) -> str:
        code = _named(value, "name and code are required", 50)
        return code.upper() if cls.UPPER_CODE else code.lower()

    @field_validator("description", check_fields=False)
    @classmethod
    def _description(cls, value: Any) -> str | None:
        return _text(value, "description", 5000)


class TaxRateBody(_Coded):
    rate: Any = None
    description: Any = None
    country_code: Any = None
    region_code: Any = None
    tax_class_id: Any = None
    is_active: Any = True
    is_inclusive: Any = False

    @field_validator("rate")
    @classmethod
    def _rate(cls, value: Any) -> Decimal:
        if value is None:
            raise refuse("rate is required")
        return _rate_percent(value, "Invalid rate")

    @field_validator("country_code")
    @classmethod
    def _country(cls, value: Any) -> str | None:
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise refuse(f"Unknown country: {value}")
        return value.strip().upper()

    @field_validator("region_code")
    @classmethod
    def _region(cls, value: Any) -> str | None:
        if value is None or value == "":
            return None
        return _text(value, "region_code", 10)

    @field_validator("tax_class_id")
    @classmethod
    def _class(cls, value: Any) -> str | None:
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise refuse(f"Tax class {value} not found")
        return value

    @field_validator("is_active", "is_inclusive")
    @classmethod
    def _flags(cls, value: Any) -> bool:
        return _flag(value, "is_active")


class NewTaxRateBody(TaxRateBody):
    @model_validator(mode="before")
    @classmethod
    def _required(cls, data: Any) -> Any:
        if isinstance(data, dict):
            if _blank(data.get("name")) or _blank(data.get("code")):
                raise refuse("name and code are required")
            if data.get("rate") is None:
                raise refuse("rate is required")
        return data


class TaxRatesQuery(QueryString):
    country: str | None = None
    is_active: str | None = None
    tax_class_id: str | None = None

    @field_validator("is_active")
    @classmethod
    def _active(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if value.strip().lower() not in ("true", "false", "1", "0"):
            raise refuse("Invalid value for is_active")
        return value.strip().lower()

    @property
    def active(self) -> bool | None:
        return None if self.is_active is None else self.is_active in ("true", "1")


class TaxClassBody(_Coded):
    UPPER_CODE = False
    description: Any = None
    default_rate: Any = Decimal(0)
    is_default: Any = False

    @field_validator("default_rate")
    @classmethod
    def _rate(cls, value: Any) -> Decimal:
        return _rate_percent(value, "Invalid default_rate")

    @field_validator("is_default")
    @classmethod
    def _default(cls, value: Any) -> bool:
        return _flag(value, "is_default")


class NewTaxClassBody(TaxClassBody):
    @model_validator(mode="before")
    @classmethod
    def _required(cls, data: Any) -> Any:
        if isinstance(data, dict) and (_blank(data.get("name")) or _blank(data.get("code"))):
            raise refuse("name and code are required")
        return data


# --- §14 settings ------------------------------------------------------------------------------------------------

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
IBAN = re.compile(r"^[A-Za-z0-9]{15,34}$")
BIC = re.compile(r"^([A-Za-z0-9]{8}|[A-Za-z0-9]{11})$")
PREFIX = re.compile(r"^[A-Z0-9]{1,10}$")
PLAIN_KEYS = (
    "provider_name",
    "other_links",
    "address_street",
    "address_city",
    "address_postal_code",
    "address_country",
    "bank_name",
)


def _string(value: Any, limit: int) -> str:
    if not isinstance(value, str):
        raise rule("string_type", "Not a valid string.")
    if len(value) > limit:
        raise rule("string_too_long", f"Longer than maximum length {limit}.")
    return value


def _shaped(value: Any, pattern: re.Pattern[str], message: str) -> str:
    text = _string(value, 500)
    if text and not pattern.match(text):
        raise rule("format", message)
    return text


class SettingsBody(Partial):
    """Any subset of the keys of admin.md §14; unknown keys are ignored. Errors are reported field by field."""

    provider_name: Any = None
    contact_email: Any = None
    website_url: Any = None
    other_links: Any = None
    address_street: Any = None
    address_city: Any = None
    address_postal_code: Any = None
    address_country: Any = None
    bank_name: Any = None
    bank_iban: Any = None
    bank_bic: Any = None
    terms_title: Any = None
    terms_content: Any = None
    invoice_prefix: Any = None
    credit_note_prefix: Any = None
    invoice_due_days: Any = None
    default_language: Any = None

    @field_validator(*PLAIN_KEYS)
    @classmethod
    def _plain(cls, value: Any) -> str:
        return _string(value, 500)

    @field_validator("contact_email")
    @classmethod
    def _email(cls, value: Any) -> str:
        return _shaped(value, EMAIL, "Invalid email format")

    @field_validator("website_url")
    @classmethod
    def _url(cls, value: Any) -> str:
        return _shaped(value, URL, "Invalid URL")

    @field_validator("bank_iban")
    @classmethod
    def _iban(cls, value: Any) -> str:
        return _shaped(value, IBAN, "Invalid IBAN")

    @field_validator("bank_bic")
    @classmethod
    def _bic(cls, value: Any) -> str:
        return _shaped(value, BIC, "Invalid BIC")

    @field_validator("terms_title")
    @classmethod
    def _title(cls, value: Any) -> str:
        return _string(value, 200)

    @field_validator("terms_content")
    @classmethod
    def _terms(cls, value: Any) -> str:
        return _string(value, 100000)

    @field_validator("invoice_prefix", "credit_note_prefix")
    @classmethod
    def _prefix(cls, value: Any) -> str:
        if not isinstance(value, str) or not PREFIX.match(value):
            raise rule("format", "Must be 1 to 10 upper-case letters or digits.")
        return value

    @field_validator("invoice_due_days")
    @classmethod
    def _due(cls, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise rule("int_type", "Not a valid integer.")
        if not 1 <= value <= 365:
            raise rule("range", "Must be between 1 and 365.")
        return value

    @field_validator("default_language")
    @classmethod
    def _language(cls, value: Any) -> str:
        return _string(value, 10)


# --- §16 access levels -------------------------------------------------------------------------------------------


class LevelBody(Partial):
    """An admin or user access level; `permissions` are checked against the registry by the service."""

    name: Any = None
    slug: Any = None
    description: Any = None
    permissions: Any = Field(default_factory=list)
    linked_plan_slug: Any = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: Any) -> str:
        return _named(value, "Name is required", 100)

    @field_validator("slug")
    @classmethod
    def _slug(cls, value: Any) -> str | None:
        if value is None or value == "":
            return None
        if not isinstance(value, str) or len(value) > 100 or not SLUG.match(value):
            raise refuse("Invalid slug")
        return value

    @field_validator("description")
    @classmethod
    def _description(cls, value: Any) -> str | None:
        return _text(value, "description", 5000)

    @field_validator("permissions")
    @classmethod
    def _permissions(cls, value: Any) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(key, str) for key in value):
            raise refuse("Permissions must be a list")
        return list(dict.fromkeys(value))

    @field_validator("linked_plan_slug")
    @classmethod
    def _plan(cls, value: Any) -> str | None:
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise refuse(f"Plan '{value}' not found")
        return value


class NewLevelBody(LevelBody):
    @model_validator(mode="before")
    @classmethod
    def _required(cls, data: Any) -> Any:
        if isinstance(data, dict) and _blank(data.get("name")):
            raise refuse("Name is required")
        return data


def _required_id(data: Any, name: str) -> Any:
    if not isinstance(data, dict) or not isinstance(data.get(name), str) or not data[name]:
        raise refuse(f"{name} is required")
    return data


class RoleIdBody(Body):
    role_id: str = ""

    @model_validator(mode="before")
    @classmethod
    def _required(cls, data: Any) -> Any:
        return _required_id(data, "role_id")


class LevelIdBody(Body):
    level_id: str = ""

    @model_validator(mode="before")
    @classmethod
    def _required(cls, data: Any) -> Any:
        return _required_id(data, "level_id")


class ExportBody(Body):
    ids: Any = None

    @field_validator("ids")
    @classmethod
    def _ids(cls, value: Any) -> list[str] | None:
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(i, str) for i in value):
            raise refuse("ids must be a list")
        return [i.lower() for i in value]


class ImportBody(Body):
    """`{roles: […]}` or `{levels: […]}` (the export format); which key is the route's."""

    roles: Any = None
    levels: Any = None

    def entries(self, key: str) -> list[dict[str, Any]]:
        value = getattr(self, key)
        if not isinstance(value, list) or not value or not all(isinstance(e, dict) for e in value):
            raise BadRequest(f"{key} list required")
        return value
