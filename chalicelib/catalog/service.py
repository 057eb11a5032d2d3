"""Public catalog reads (contract catalog.md §4), from the catalog snapshot (`repository.reference()`).

Inputs come normalized from the query models (`chalicelib.catalog.schemas`): codes trimmed and upper-cased, `None`
when the parameter was not sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from chalicelib.catalog import pricing, repository, serializers
from chalicelib.catalog.models import CategoryItem, CurrencyItem, PlanItem, TaxItem
from chalicelib.catalog.pricing import Currencies
from chalicelib.catalog.repository import Reference
from chalicelib.catalog.schemas import is_country_code
from chalicelib.core.errors import BadRequest, NotFound
from chalicelib.core.ids import is_uuid
from chalicelib.core.money import as_number, format_fixed, format_money
from chalicelib.payments.methods import accepts, is_listable

if TYPE_CHECKING:
    from chalicelib.auth.principal import Principal


def _by_order(items: list[Any], order: str = "sort_order") -> list[Any]:
    return sorted(items, key=lambda item: (int(getattr(item, order)), item.name))


@dataclass(frozen=True)
class PriceContext:
    currencies: Currencies
    display: CurrencyItem
    country: str | None
    tax: TaxItem | None
    categories: dict[str, CategoryItem]


def _price_context(ref: Reference, currency: str | None, country: str | None) -> PriceContext:
    """`currency` and `country` upper-cased codes, or None when not asked for (catalog.md §3)."""
    currencies = Currencies.of(ref.currencies)
    display = currencies.default if currency is None else currencies.active(currency)
    tax = None
    if country is not None:
        # A value that is no country code names no country: answered without a lookup (an empty or 3,000-character
        # value would not even be a key DynamoDB takes).
        if not is_country_code(country) or repository.find_country(country) is None:
            raise BadRequest(f"Unknown country: {country}")
        tax = pricing.applicable_tax(country, ref.taxes, ref.tax_classes)
    return PriceContext(currencies, display, country, tax, ref.categories_by_id())


def _listing_entry(plan: PlanItem, ctx: PriceContext) -> dict[str, Any]:
    entry = serializers.plan(plan, ctx.currencies, ctx.categories)
    places = int(ctx.display.decimal_places)
    display_price = ctx.currencies.convert(plan.price, plan.currency, ctx.display)
    entry["display_currency"] = ctx.display.code
    entry["display_price"] = as_number(display_price, places)
    if ctx.country is not None:
        split = pricing.split(display_price, ctx.tax, places)
        entry["net_price"] = format_money(split.net, places)
        entry["tax_amount"] = format_money(split.tax, places)
        entry["gross_price"] = format_money(split.gross, places)
        entry["tax_rate"] = format_fixed(ctx.tax.rate if ctx.tax else Decimal(0), 2)
        entry["tax_inclusive"] = bool(ctx.tax and ctx.tax.is_inclusive)
    return entry


def list_plans(currency: str | None, country: str | None, category: str | None) -> dict[str, Any]:
    ref = repository.reference()
    ctx = _price_context(ref, currency, country)
    plans = [plan for plan in ref.plans if plan.is_active]
    if category is not None:
        match = next((c for c in ctx.categories.values() if c.slug == category), None)
        if match is None:
            raise NotFound(f"Category '{category}' not found")
        plans = [plan for plan in plans if match.id in plan.category_ids]
    return {
        "plans": [_listing_entry(plan, ctx) for plan in _by_order(plans)],
        "currency": ctx.display.code,
        "country": ctx.country,
    }


def get_plan(slug_or_id: str, currency: str | None, country: str | None) -> dict[str, Any]:
    ref = repository.reference()
    plan = _find_plan(ref, slug_or_id)
    try:
        ctx = _price_context(ref, currency, country)
    except BadRequest as error:
        if error.message.startswith("Unknown currency"):
            currencies = Currencies.of(ref.currencies)
            summary = {
                "id": plan.id,
                "name": plan.name,
                "slug": plan.slug,
                "price": format_money(plan.price, currencies.places(plan.currency)),
            }
            raise BadRequest(error.message, plan=summary) from error
        raise
    return _listing_entry(plan, ctx)


def _find_plan(ref: Reference, slug_or_id: str) -> PlanItem:
    if is_uuid(slug_or_id):
        found = ref.plan(slug_or_id.lower())
    else:
        found = next((plan for plan in ref.plans if plan.slug == slug_or_id), None)
    if found is None:
        raise NotFound("Plan not found")
    return found


def list_categories(fmt: str) -> dict[str, Any]:
    """`fmt` is `tree` or `flat` (the query model refuses anything else)."""
    ref = repository.reference()
    categories = _by_order(ref.categories)
    active_plans = [plan for plan in ref.plans if plan.is_active]
    counts = {c.id: sum(1 for plan in active_plans if c.id in plan.category_ids) for c in categories}
    if fmt == "flat":
        return {"categories": [serializers.category(c, counts[c.id], []) for c in categories]}
    known = {c.id for c in categories}

    def subtree(parent_id: str | None) -> list[dict[str, Any]]:
        level = [c for c in categories if c.parent_id == parent_id or (parent_id is None and c.parent_id not in known)]
        return [serializers.category(c, counts[c.id], subtree(c.id)) for c in level]

    return {"categories": subtree(None)}


def list_currencies() -> dict[str, Any]:
    active = [c for c in repository.reference().currencies if c.is_active]
    active.sort(key=lambda c: (not c.is_default, c.code))
    default = next((c.code for c in active if c.is_default), None)
    return {"currencies": [serializers.currency(c) for c in active], "default": default}


def list_taxes(country: str | None) -> dict[str, Any]:
    taxes = [t for t in repository.reference().taxes if t.is_active]
    if country is not None:
        taxes = [t for t in taxes if (t.country_code or "") == country]
    taxes.sort(key=lambda t: (t.country_code or "", t.code))
    return {"taxes": [serializers.public_tax(t) for t in taxes]}


def list_token_bundles() -> dict[str, Any]:
    ref = repository.reference()
    currencies = Currencies.of(ref.currencies)
    bundles = [b for b in ref.token_bundles if b.is_active]
    return {"bundles": [serializers.token_bundle(b, currencies) for b in _by_order(bundles)]}


def get_token_bundle(bundle_id: str) -> dict[str, Any]:
    ref = repository.reference()
    bundle = ref.token_bundle(bundle_id)
    if bundle is None:
        raise NotFound("Token bundle not found")
    return {"bundle": serializers.token_bundle(bundle, Currencies.of(ref.currencies))}


def list_addons(principal: Principal | None, plan_id: str | None) -> dict[str, Any]:
    """Independent add-ons, those bound to a plan the caller holds, and those bound to `plan_id` (a lower-case id)."""
    visible_plans: set[str] = set()
    if plan_id is not None:
        visible_plans.add(plan_id)
    if principal is not None:
        from chalicelib.subscriptions.models import VALID_STATUSES
        from chalicelib.subscriptions.repository import subscriptions_of

        visible_plans.update(s.tarif_plan_id for s in subscriptions_of(principal.user_id) if s.status in VALID_STATUSES)
    ref = repository.reference()
    addons = [a for a in ref.addons if a.is_active and (not a.plan_ids or visible_plans.intersection(a.plan_ids))]
    currencies = Currencies.of(ref.currencies)
    plans = {plan.id: plan for plan in ref.plans}
    return {"addons": [serializers.addon(a, currencies, plans) for a in _by_order(addons)]}


def get_addon(addon_id: str) -> dict[str, Any]:
    ref = repository.reference()
    addon = ref.addon(addon_id)
    if addon is None:
        raise NotFound("Add-on not found")
    plans = {plan.id: plan for plan in ref.plans}
    return {"addon": serializers.addon(addon, Currencies.of(ref.currencies), plans)}


def list_countries() -> dict[str, Any]:
    enabled = [c for c in repository.countries() if c.is_enabled]
    enabled.sort(key=lambda c: (int(c.position), c.name))
    return {"countries": [serializers.public_country(c) for c in enabled]}


def terms() -> dict[str, Any]:
    values = repository.settings()
    return {"title": values["terms_title"], "content": values["terms_content"]}


def list_payment_methods(
    locale: str | None, currency: str | None, country: str | None, amount: Decimal | None
) -> dict[str, Any]:
    """The methods a client may offer for that currency, country and amount (each optional)."""
    methods = [
        m for m in repository.reference().payment_methods if is_listable(m) and accepts(m, currency, country, amount)
    ]
    methods.sort(key=lambda m: (int(m.position), m.name))
    return {"methods": [serializers.public_payment_method(m, locale) for m in methods]}


def get_payment_method(code: str, locale: str | None) -> dict[str, Any]:
    method = next((m for m in repository.reference().payment_methods if m.code == code), None)
    if method is None or not is_listable(method):
        raise NotFound("Payment method not found")
    return {"method": serializers.public_payment_method(method, locale)}


def list_languages() -> dict[str, Any]:
    ref = repository.reference()
    languages = sorted(ref.languages, key=lambda lang: (int(lang.sort_order), lang.code))
    return {
        "languages": [{"code": lang.code, "name": lang.name} for lang in languages],
        "default": ref.settings["default_language"],
    }
