"""Admin settings of the catalog (admin.md §10–§14): payment methods, countries, currencies, taxes, settings.

Reads come from the catalog snapshot (countries from their partition); every write is one
`settings_writes.change`: computed from a fresh snapshot, committed on condition that the catalog did not move.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from chalicelib.admin_settings import serializers
from chalicelib.admin_settings.schemas import (
    CurrencyBody,
    NewCurrencyBody,
    NewPaymentMethodBody,
    NewTaxClassBody,
    NewTaxRateBody,
    PaymentMethodBody,
    SettingsBody,
    TaxClassBody,
    TaxRateBody,
    TaxRatesQuery,
    TranslationBody,
)
from chalicelib.catalog import repository
from chalicelib.catalog.models import (
    CountryItem,
    CurrencyItem,
    PaymentMethodItem,
    SettingsItem,
    TaxClassItem,
    TaxItem,
)
from chalicelib.catalog.repository import Reference
from chalicelib.catalog.settings_writes import CatalogChange, change
from chalicelib.core.errors import BadRequest, NotFound, ValidationFailed
from chalicelib.core.ids import new_id
from chalicelib.events.catalog import SettingsUpdated
from chalicelib.events.envelope import Actor

PAYMENT_METHOD_CODE = "PAYMENT_METHOD_CODE"
TAX_CODE = "TAX_CODE"
TAX_CLASS_CODE = "TAX_CLASS_CODE"
DISABLED_POSITION = 999
RATE_PLACES = Decimal("0.000001")

# --- §10 payment methods -----------------------------------------------------------------------------------------


def _methods(ref: Reference) -> list[PaymentMethodItem]:
    return sorted(ref.payment_methods, key=lambda m: (int(m.position), m.name))


def _method(ref: Reference, method_id: str) -> PaymentMethodItem:
    found = next((m for m in ref.payment_methods if m.id == method_id), None)
    if found is None:
        raise NotFound("Payment method not found")
    return found


def list_payment_methods() -> dict[str, Any]:
    return {"payment_methods": [serializers.payment_method(m) for m in _methods(repository.reference())]}


def get_payment_method(method_id: str) -> dict[str, Any]:
    return {"payment_method": serializers.payment_method(_method(repository.reference(), method_id))}


def get_payment_method_by_code(code: str) -> dict[str, Any]:
    found = next((m for m in repository.reference().payment_methods if m.code == code), None)
    if found is None:
        raise NotFound("Payment method not found")
    return {"payment_method": serializers.payment_method(found)}


def _clear_defaults(ch: CatalogChange, records: Sequence[PaymentMethodItem | TaxClassItem], keep: str) -> None:
    """Take the default flag from every record but `keep` (which the change makes the default)."""
    for other in records:
        if other.is_default and other.id != keep:
            ch.save(other, is_default=False)


def _claim_code(
    ch: CatalogChange, kind: str, records: Sequence[TaxItem | TaxClassItem], code: str, owner: str, taken: str
) -> None:
    """Guard a code for `owner`, refused with `taken` when another record of the snapshot holds it already."""
    if any(r.code == code and r.id != owner for r in records):
        raise BadRequest(taken)
    ch.claim(kind, code, owner, taken)


def create_payment_method(actor: Actor, body: NewPaymentMethodBody) -> dict[str, Any]:
    values = {name: getattr(body, name) for name in PaymentMethodBody.model_fields}

    def apply(ch: CatalogChange) -> dict[str, Any]:
        if any(m.code == body.code for m in ch.ref.payment_methods):
            raise BadRequest("Code already exists")
        method_id = new_id()
        item = ch.new(PaymentMethodItem, method_id, id=method_id, translations={}, **values)
        ch.claim(PAYMENT_METHOD_CODE, str(body.code), method_id, "Code already exists")
        if body.is_default:
            _clear_defaults(ch, ch.ref.payment_methods, method_id)
        return {"payment_method": serializers.payment_method(item), "message": "Payment method created successfully"}

    return change(actor, apply)


def update_payment_method(actor: Actor, method_id: str, body: PaymentMethodBody) -> dict[str, Any]:
    sent = body.sent()
    sent.pop("is_default", None)  # only set-default moves the default (admin.md §10)

    def apply(ch: CatalogChange) -> dict[str, Any]:
        method = _method(ch.ref, method_id)
        if "code" in sent and sent["code"] != method.code:
            raise BadRequest("Code is immutable and cannot be changed")
        if sent.get("is_active") is False and method.is_default:
            raise BadRequest("Cannot deactivate the default payment method")
        low = sent.get("min_amount", method.min_amount)
        high = sent.get("max_amount", method.max_amount)
        if low is not None and high is not None and low > high:
            raise BadRequest("min_amount cannot exceed max_amount")
        return {"payment_method": serializers.payment_method(ch.save(method, **sent))}

    return change(actor, apply)


def delete_payment_method(actor: Actor, method_id: str) -> dict[str, Any]:
    def apply(ch: CatalogChange) -> dict[str, Any]:
        method = _method(ch.ref, method_id)
        if method.is_default:
            raise BadRequest("Cannot delete the default payment method")
        ch.remove(method)
        ch.release(PAYMENT_METHOD_CODE, method.code)
        return {"message": "Payment method deleted successfully"}

    return change(actor, apply)


def activate_payment_method(actor: Actor, method_id: str, active: bool) -> dict[str, Any]:
    def apply(ch: CatalogChange) -> dict[str, Any]:
        method = _method(ch.ref, method_id)
        if not active and method.is_default:
            raise BadRequest("Cannot deactivate the default payment method")
        saved = ch.save(method, is_active=active) if method.is_active != active else method
        return {
            "payment_method": serializers.payment_method(saved),
            "message": "Activated" if active else "Deactivated",
        }

    return change(actor, apply)


def set_default_payment_method(actor: Actor, method_id: str) -> dict[str, Any]:
    def apply(ch: CatalogChange) -> dict[str, Any]:
        method = _method(ch.ref, method_id)
        if not method.is_active:
            raise BadRequest("Cannot set an inactive payment method as default")
        _clear_defaults(ch, ch.ref.payment_methods, method_id)
        saved = method if method.is_default else ch.save(method, is_default=True)
        return {"payment_method": serializers.payment_method(saved), "message": "Set as default"}

    return change(actor, apply)


def reorder_payment_methods(actor: Actor, order: list[tuple[str, int]]) -> dict[str, Any]:
    def apply(ch: CatalogChange) -> dict[str, Any]:
        by_id = {m.id: m for m in ch.ref.payment_methods}
        for method_id, _ in order:
            if method_id not in by_id:
                raise BadRequest(f"Payment method {method_id} not found")
        for method_id, position in dict(order).items():
            if int(by_id[method_id].position) != position:
                by_id[method_id] = ch.save(by_id[method_id], position=position)
        methods = sorted(by_id.values(), key=lambda m: (int(m.position), m.name))
        return {"payment_methods": [serializers.payment_method(m) for m in methods]}

    return change(actor, apply)


def list_translations(method_id: str) -> dict[str, Any]:
    method = _method(repository.reference(), method_id)
    translations = method.translations or {}
    return {
        "translations": [
            serializers.translation(method, locale, values) for locale, values in sorted(translations.items())
        ]
    }


def _locale_key(translations: dict[str, Any], locale: str) -> str | None:
    return next((key for key in translations if key.lower() == locale.lower()), None)


def save_translation(actor: Actor, method_id: str, body: TranslationBody) -> dict[str, Any]:
    def apply(ch: CatalogChange) -> dict[str, Any]:
        method = _method(ch.ref, method_id)
        translations = dict(method.translations or {})
        key = _locale_key(translations, body.locale)
        stored = dict(translations.pop(key)) if key is not None else {"id": new_id()}
        for name in serializers.TRANSLATION_FIELDS:
            if name in body.model_fields_set:
                stored[name] = getattr(body, name)
        translations[body.locale] = stored
        ch.save(method, translations=translations)
        return {"translation": serializers.translation(method, body.locale, stored)}

    return change(actor, apply)


def delete_translation(actor: Actor, method_id: str, locale: str) -> dict[str, Any]:
    def apply(ch: CatalogChange) -> dict[str, Any]:
        method = _method(ch.ref, method_id)
        translations = dict(method.translations or {})
        key = _locale_key(translations, locale)
        if key is None:
            raise NotFound("Translation not found")
        del translations[key]
        ch.save(method, translations=translations)
        return {"message": "Translation deleted"}

    return change(actor, apply)


# --- §11 countries -----------------------------------------------------------------------------------------------


def _enabled(countries: list[CountryItem]) -> list[CountryItem]:
    return sorted((c for c in countries if c.is_enabled), key=lambda c: (int(c.position), c.name))


def _disabled(countries: list[CountryItem]) -> list[CountryItem]:
    return sorted((c for c in countries if not c.is_enabled), key=lambda c: c.name)


def list_countries(which: str) -> dict[str, Any]:
    countries = repository.countries()
    shown = {
        "all": _enabled(countries) + _disabled(countries),
        "enabled": _enabled(countries),
        "disabled": _disabled(countries),
    }[which]
    return {"countries": [serializers.country(c) for c in shown]}


def _country(code: str) -> CountryItem:
    found = repository.find_country(code) if len(code) == 2 and code.isascii() and code.isalpha() else None
    if found is None:
        raise NotFound(f"Country '{code.upper()}' not found")
    return found


def enable_country(actor: Actor, code: str) -> dict[str, Any]:
    def apply(ch: CatalogChange) -> dict[str, Any]:
        country = _country(code)
        if country.is_enabled:
            return serializers.country(country)
        positions = [int(c.position) for c in repository.countries() if c.is_enabled]
        position = max(positions) + 1 if positions else 0
        return serializers.country(ch.save(country, is_enabled=True, position=position))

    return change(actor, apply)


def disable_country(actor: Actor, code: str) -> dict[str, Any]:
    def apply(ch: CatalogChange) -> dict[str, Any]:
        country = _country(code)
        if not country.is_enabled and int(country.position) == DISABLED_POSITION:
            return serializers.country(country)
        return serializers.country(ch.save(country, is_enabled=False, position=DISABLED_POSITION))

    return change(actor, apply)


def reorder_countries(actor: Actor, codes: list[str]) -> dict[str, Any]:
    def apply(ch: CatalogChange) -> dict[str, Any]:
        enabled = _enabled(repository.countries())
        by_code = {c.code: c for c in enabled}
        listed = [by_code[code] for code in dict.fromkeys(codes) if code in by_code]
        order = listed + [c for c in enabled if c not in listed]
        result = []
        for position, country in enumerate(order):
            result.append(country if int(country.position) == position else ch.save(country, position=position))
        return {"countries": [serializers.country(c) for c in result]}

    return change(actor, apply)


# --- §12 currencies ----------------------------------------------------------------------------------------------


def _currencies(ref: Reference) -> list[CurrencyItem]:
    return sorted(ref.currencies, key=lambda c: (not c.is_default, c.code))


def _currency(ref: Reference, code: str) -> CurrencyItem:
    found = next((c for c in ref.currencies if c.code == code.strip().upper()), None)
    if found is None:
        raise NotFound("Currency not found")
    return found


def _in_use(ref: Reference, code: str) -> bool:
    """A price of the catalog (plan, add-on, token bundle) is in this currency."""
    priced = [p.currency for p in ref.plans] + [a.currency for a in ref.addons]
    return code in priced or any(b.currency == code for b in ref.token_bundles)


def list_currencies() -> dict[str, Any]:
    return {"currencies": [serializers.currency(c) for c in _currencies(repository.reference())]}


def get_currency(code: str) -> dict[str, Any]:
    return {"currency": serializers.currency(_currency(repository.reference(), code))}


def create_currency(actor: Actor, body: NewCurrencyBody) -> dict[str, Any]:
    def apply(ch: CatalogChange) -> dict[str, Any]:
        code = str(body.code)
        if any(c.code == code for c in ch.ref.currencies):
            raise BadRequest(f"Currency '{code}' already exists")
        item = ch.new(
            CurrencyItem,
            code,
            id=new_id(),
            code=code,
            name=body.name,
            symbol=body.symbol,
            exchange_rate=body.exchange_rate,
            decimal_places=body.decimal_places,
            is_active=body.is_active,
            is_default=False,
        )
        return {"currency": serializers.currency(item)}

    return change(actor, apply)


def update_currency(actor: Actor, code: str, body: CurrencyBody) -> dict[str, Any]:
    sent = body.sent()

    def apply(ch: CatalogChange) -> dict[str, Any]:
        currency = _currency(ch.ref, code)
        if sent.get("is_active") is False and currency.is_default:
            raise BadRequest("Cannot deactivate the default currency")
        places = sent.get("decimal_places", int(currency.decimal_places))
        if places != int(currency.decimal_places) and _in_use(ch.ref, currency.code):
            raise BadRequest("Cannot change decimal places of a currency in use")
        return {"currency": serializers.currency(ch.save(currency, **sent))}

    return change(actor, apply)


def delete_currency(actor: Actor, code: str) -> dict[str, Any]:
    def apply(ch: CatalogChange) -> dict[str, Any]:
        currency = _currency(ch.ref, code)
        if currency.is_default:
            raise BadRequest("Cannot delete the default currency")
        if _in_use(ch.ref, currency.code):
            raise BadRequest("Currency is in use")
        ch.remove(currency)
        return {"message": "Currency deleted"}

    return change(actor, apply)


def rescaled(rate: Decimal, new_default_rate: Decimal) -> Decimal:
    """A rate against the old default, as a rate against the new one (6 places, half up)."""
    return (rate / new_default_rate).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)


def set_default_currency(actor: Actor, code: str) -> dict[str, Any]:
    def apply(ch: CatalogChange) -> dict[str, Any]:
        target = _currency(ch.ref, code)
        if not target.is_active:
            raise BadRequest("Cannot set an inactive currency as default")
        base = target.exchange_rate
        saved = target
        for currency in ch.ref.currencies:
            is_target = currency.code == target.code
            rate = Decimal("1.000000") if is_target else rescaled(currency.exchange_rate, base)
            if rate != currency.exchange_rate or currency.is_default != is_target:
                written = ch.save(currency, exchange_rate=rate, is_default=is_target)
                saved = written if is_target else saved
        return {"currency": serializers.currency(saved), "message": "Set as default"}

    return change(actor, apply)


# --- §13 taxes ---------------------------------------------------------------------------------------------------


def _tax(ref: Reference, tax_id: str) -> TaxItem:
    found = next((t for t in ref.taxes if t.id == tax_id), None)
    if found is None:
        raise NotFound("Tax rate not found")
    return found


def _tax_class(ref: Reference, class_id: str) -> TaxClassItem:
    found = next((c for c in ref.tax_classes if c.id == class_id), None)
    if found is None:
        raise NotFound("Tax class not found")
    return found


def list_tax_rates(query: TaxRatesQuery) -> dict[str, Any]:
    country = query.country.strip().upper() if query.country else None
    rates = [
        t
        for t in repository.reference().taxes
        if (country is None or t.country_code == country)
        and (query.active is None or t.is_active == query.active)
        and (not query.tax_class_id or t.tax_class_id == query.tax_class_id)
    ]
    rates.sort(key=lambda t: (t.country_code or "", t.code))
    return {"rates": [serializers.tax_rate(t) for t in rates]}


def get_tax_rate(tax_id: str) -> dict[str, Any]:
    return {"rate": serializers.tax_rate(_tax(repository.reference(), tax_id))}


def _check_tax_refs(ref: Reference, values: dict[str, Any]) -> None:
    country = values.get("country_code")
    if country is not None and repository.find_country(country) is None:
        raise BadRequest(f"Unknown country: {country}")
    class_id = values.get("tax_class_id")
    if class_id is not None and not any(c.id == class_id for c in ref.tax_classes):
        raise BadRequest(f"Tax class {class_id} not found")


def _claim_tax_code(ch: CatalogChange, code: str, owner: str) -> None:
    _claim_code(ch, TAX_CODE, ch.ref.taxes, code, owner, f"Tax code '{code}' already exists")


def create_tax_rate(actor: Actor, body: NewTaxRateBody) -> dict[str, Any]:
    values = {name: getattr(body, name) for name in TaxRateBody.model_fields}

    def apply(ch: CatalogChange) -> dict[str, Any]:
        tax_id = new_id()
        _claim_tax_code(ch, values["code"], tax_id)
        _check_tax_refs(ch.ref, values)
        return {"rate": serializers.tax_rate(ch.new(TaxItem, tax_id, id=tax_id, **values))}

    return change(actor, apply)


def update_tax_rate(actor: Actor, tax_id: str, body: TaxRateBody) -> dict[str, Any]:
    sent = body.sent()

    def apply(ch: CatalogChange) -> dict[str, Any]:
        tax = _tax(ch.ref, tax_id)
        if "code" in sent and sent["code"] != tax.code:
            _claim_tax_code(ch, sent["code"], tax.id)
            ch.release(TAX_CODE, tax.code)
        _check_tax_refs(ch.ref, sent)
        return {"rate": serializers.tax_rate(ch.save(tax, **sent))}

    return change(actor, apply)


def delete_tax_rate(actor: Actor, tax_id: str) -> dict[str, Any]:
    def apply(ch: CatalogChange) -> dict[str, Any]:
        tax = _tax(ch.ref, tax_id)
        ch.remove(tax)
        ch.release(TAX_CODE, tax.code)
        return {"message": "Tax rate deleted"}

    return change(actor, apply)


def list_tax_classes() -> dict[str, Any]:
    classes = sorted(repository.reference().tax_classes, key=lambda c: c.name)
    return {"classes": [serializers.tax_class(c) for c in classes]}


def get_tax_class(class_id: str) -> dict[str, Any]:
    return {"tax_class": serializers.tax_class(_tax_class(repository.reference(), class_id))}


def _claim_class_code(ch: CatalogChange, code: str, owner: str) -> None:
    _claim_code(ch, TAX_CLASS_CODE, ch.ref.tax_classes, code, owner, f"Tax class code '{code}' already exists")


def create_tax_class(actor: Actor, body: NewTaxClassBody) -> dict[str, Any]:
    values = {name: getattr(body, name) for name in TaxClassBody.model_fields}

    def apply(ch: CatalogChange) -> dict[str, Any]:
        class_id = new_id()
        _claim_class_code(ch, values["code"], class_id)
        if values["is_default"]:
            _clear_defaults(ch, ch.ref.tax_classes, class_id)
        return {"tax_class": serializers.tax_class(ch.new(TaxClassItem, class_id, id=class_id, **values))}

    return change(actor, apply)


def update_tax_class(actor: Actor, class_id: str, body: TaxClassBody) -> dict[str, Any]:
    sent = body.sent()

    def apply(ch: CatalogChange) -> dict[str, Any]:
        tax_class = _tax_class(ch.ref, class_id)
        if "code" in sent and sent["code"] != tax_class.code:
            _claim_class_code(ch, sent["code"], tax_class.id)
            ch.release(TAX_CLASS_CODE, tax_class.code)
        if sent.get("is_default"):
            _clear_defaults(ch, ch.ref.tax_classes, class_id)
        return {"tax_class": serializers.tax_class(ch.save(tax_class, **sent))}

    return change(actor, apply)


def delete_tax_class(actor: Actor, class_id: str) -> dict[str, Any]:
    def apply(ch: CatalogChange) -> dict[str, Any]:
        tax_class = _tax_class(ch.ref, class_id)
        for tax in ch.ref.taxes:
            if tax.tax_class_id == class_id:
                ch.save(tax, tax_class_id=None)  # the rates stay, unclassified (admin.md §13)
        ch.remove(tax_class)
        ch.release(TAX_CLASS_CODE, tax_class.code)
        return {"message": "Tax class deleted"}

    return change(actor, apply)


# --- §14 settings ------------------------------------------------------------------------------------------------


def get_settings() -> dict[str, Any]:
    return {"settings": repository.reference().settings}


def update_settings(actor: Actor, body: SettingsBody) -> dict[str, Any]:
    sent = body.sent()

    def apply(ch: CatalogChange) -> dict[str, Any]:
        language = sent.get("default_language")
        if language is not None and language not in {lang.code for lang in ch.ref.languages}:
            raise ValidationFailed({"default_language": ["Unknown language."]})
        if not sent:
            return {"settings": ch.ref.settings, "message": "Settings updated successfully"}
        stored = ch.ref.stored_settings
        values = {**(stored.values if stored else {}), **sent}
        if stored is None:
            ch.new(SettingsItem, SettingsItem.NAME, values=values)
        else:
            ch.save(stored, values=values)
        ch.emit(SettingsUpdated(keys=sorted(sent)))
        merged = {**ch.ref.settings, **sent}
        return {"settings": merged, "message": "Settings updated successfully"}

    return change(actor, apply)
