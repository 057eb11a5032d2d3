"""Query and answer models of the public catalog routes (contract catalog.md §2, §4).

Query models type and normalize the filters (codes trimmed and upper-cased, an amount a `Decimal`); whether a
currency or country exists is the service's to decide, after the lookups the contract orders before it (a plan
that does not exist is 404 whatever its currency).

The lists are answered whole from the catalog snapshot (one partition, read once per catalog version), so their
paging is a slice of a list already in memory (`chalicelib.http.pagination.whole_list`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, field_validator

from chalicelib.core.ids import is_uuid
from chalicelib.core.money import parse_decimal
from chalicelib.core.validation import Answer, Instant, Money, PagingQuery, QueryString, Uuid, WholeList, refuse

CATEGORY_FORMATS = ("tree", "flat")

# The billing period of a plan or an add-on (README BillingPeriod). The catalog's own answers document it as the
# string they store; the answers of the things bought (subscriptions, add-on subscriptions) name the periods.
BillingPeriod = Literal["DAILY", "WEEKLY", "MONTHLY", "QUARTERLY", "YEARLY", "ONE_TIME"]


def _code(value: str | None) -> str | None:
    """A code as compared: trimmed, upper-cased; absent when the parameter is."""
    return None if value is None else value.strip().upper()


def is_country_code(code: str) -> bool:
    """ISO 3166-1 alpha-2 shape: anything else names no country, and is not looked up."""
    return len(code) == 2 and code.isascii() and code.isalpha()


class PriceQuery(QueryString):
    """Display pricing of catalog.md §3: a display currency and a country for tax."""

    currency: Annotated[
        str | None, Field(description="An active currency code (any case); the default currency when absent")
    ] = None
    country: Annotated[
        str | None, Field(description="A known country code (any case): adds net, tax and gross prices")
    ] = None

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str | None) -> str | None:
        return None if not value else _code(value)

    @field_validator("country")
    @classmethod
    def _country(cls, value: str | None) -> str | None:
        return None if not value else _code(value)


class PlansQuery(PriceQuery, PagingQuery):
    category: Annotated[str | None, Field(description="A category slug: only the active plans attached to it")] = None


class PlanQuery(PriceQuery):
    pass


class CategoriesQuery(PagingQuery):
    format: Annotated[str, Field(description="`tree` (default: roots with nested children) or `flat`")] = "tree"

    @field_validator("format")
    @classmethod
    def _format(cls, value: str) -> str:
        wanted = value or "tree"
        if wanted not in CATEGORY_FORMATS:
            raise refuse(f"Invalid format: {value}")
        return wanted


class TaxesQuery(PagingQuery):
    country: Annotated[str | None, Field(description="Only this country's taxes (any case)")] = None

    @field_validator("country")
    @classmethod
    def _country(cls, value: str | None) -> str | None:
        return None if not value else _code(value)


class AddonsQuery(PagingQuery):
    plan_id: Annotated[
        str | None,
        Field(
            description="Also the add-ons bound to this plan (a checkout page for it)",
            json_schema_extra={"format": "uuid"},
        ),
    ] = None

    @field_validator("plan_id")
    @classmethod
    def _plan_id(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not is_uuid(value):
            raise refuse("Invalid plan_id format")
        return value.lower()


class LocaleQuery(QueryString):
    locale: Annotated[
        str | None, Field(description="Translate names and texts (exact locale, else its language: de-AT → de)")
    ] = None


class PaymentMethodsQuery(LocaleQuery, PagingQuery):
    currency: Annotated[str | None, Field(description="Methods that take this currency (any case)")] = None
    country: Annotated[str | None, Field(description="Methods offered in this country")] = None
    amount: Annotated[Decimal | None, Field(description="Methods whose bounds admit this amount (a decimal ≥ 0)")] = (
        None
    )

    @field_validator("currency", "country")
    @classmethod
    def _trimmed(cls, value: str | None) -> str | None:
        return value.strip() if value else None

    @field_validator("amount", mode="before")
    @classmethod
    def _amount(cls, value: Any) -> Decimal | None:
        if value is None:
            return None
        try:
            amount = parse_decimal(value)
        except ValueError as exc:
            raise refuse("Invalid amount") from exc
        if amount < 0:
            raise refuse("Invalid amount")
        return amount


# --- answers ---------------------------------------------------------------------------------------------------


class PlanPrice(Answer):
    """A plan's price in its own currency"""

    price_decimal: Money
    price_float: float
    currency_code: str
    currency_symbol: str


class CategorySummary(Answer):
    """A category of the plan"""

    id: Uuid
    name: str
    slug: str
    is_single: bool


class PlanName(Answer):
    id: Uuid
    name: str


class PlanRef(PlanName):
    """A plan as the things bought name it: id, name and slug"""

    slug: str


class Plan(Answer):
    """A tariff plan (catalog.md §2.1)"""

    id: Uuid
    name: str
    slug: str
    description: str | None
    price_float: float
    price: PlanPrice
    currency: str
    billing_period: str
    features: dict[str, Any] | list[Any]
    trial_days: int
    is_active: bool
    is_recurring: bool
    sort_order: int
    categories: list[CategorySummary]
    created_at: Instant
    updated_at: Instant


class PlanListing(Plan):
    """A plan with its display pricing (catalog.md §2.2); the tax keys only when a country was given"""

    display_currency: str
    display_price: float
    net_price: Money | None = None
    tax_amount: Money | None = None
    gross_price: Money | None = None
    tax_rate: Money | None = None
    tax_inclusive: bool | None = None


class PlansAnswer(WholeList):
    """Active plans by sort order, then name"""

    plans: list[PlanListing]
    currency: str = Field(description="The display currency")
    country: str | None = Field(description="The country of the tax columns, upper-cased")


class PlanSummary(PlanRef):
    price: Money


class PlanPriceRefused(Answer):
    """Unknown currency or country; an unknown currency names the plan"""

    model_config = ConfigDict(extra="allow")  # any 400 of the edge comes here too, with its own keys (README §1.4)

    error: str
    plan: PlanSummary | None = None


class Category(Answer):
    """A plan category (catalog.md §2.3); `children` nested in the tree format, `[]` in the flat one"""

    id: Uuid
    name: str
    slug: str
    description: str | None
    parent_id: Uuid | None
    is_single: bool
    sort_order: int
    plan_count: int = Field(description="Active plans attached")
    children: list[Category]
    created_at: Instant
    updated_at: Instant


class CategoriesAnswer(WholeList):
    """The categories, each level by sort order, then name"""

    categories: list[Category]


class Currency(Answer):
    """A currency (catalog.md §2.4)"""

    code: str
    name: str
    symbol: str
    exchange_rate: Annotated[str, Field(description="Units per one unit of the default currency, 6 places")]
    decimal_places: int
    is_default: bool


class CurrenciesAnswer(WholeList):
    """Active currencies, the default first, then by code"""

    currencies: list[Currency]
    default: str | None


class PublicTax(Answer):
    """A tax, public form (catalog.md §2.5)"""

    code: str
    name: str
    rate: Money = Field(description="A percentage")
    country_code: str | None
    region_code: str | None
    is_inclusive: bool


class TaxesAnswer(WholeList):
    """Active taxes by country, then code"""

    taxes: list[PublicTax]


class TokenBundle(Answer):
    """A token bundle (catalog.md §2.6)"""

    id: Uuid
    name: str
    description: str | None
    token_amount: int
    price: Money
    currency: str
    is_active: bool
    sort_order: int
    created_at: Instant
    updated_at: Instant


class BundlesAnswer(WholeList):
    """Active bundles by sort order, then name"""

    bundles: list[TokenBundle]


class BundleAnswer(Answer):
    """One bundle (inactive ones too)"""

    bundle: TokenBundle


class Addon(Answer):
    """An add-on (catalog.md §2.7): independent when `tarif_plan_ids` is empty"""

    id: Uuid
    name: str
    slug: str
    description: str | None
    price: Money
    currency: str
    billing_period: str
    config: dict[str, Any]
    is_active: bool
    is_recurring: bool
    sort_order: int
    tarif_plan_ids: list[Uuid]
    tarif_plans: list[PlanName]
    created_at: Instant
    updated_at: Instant


class AddonsAnswer(WholeList):
    """The active add-ons the caller may see, by sort order, then name"""

    addons: list[Addon]


class AddonAnswer(Answer):
    """One add-on (inactive ones too)"""

    addon: Addon


class PublicCountry(Answer):
    """A country, public form (catalog.md §2.8)"""

    code: str
    name: str


class CountriesAnswer(WholeList):
    """Enabled countries by position, then name"""

    countries: list[PublicCountry]


class TermsAnswer(Answer):
    """The terms and conditions (admin settings `terms_title`, `terms_content`)"""

    title: str
    content: str = Field(description="Markdown")


class PublicPaymentMethod(Answer):
    """A payment method, public form (catalog.md §2.9)"""

    id: Uuid
    code: str
    name: str
    description: str | None
    short_description: str | None
    icon: str | None
    is_default: bool
    is_active: bool
    position: int
    fee_type: str
    fee_amount: Annotated[str, Field(description="Informational; 4 places")]
    fee_charged_to: str
    instructions: str | None


class MethodsAnswer(WholeList):
    """The methods a client may offer, by position, then name"""

    methods: list[PublicPaymentMethod]


class MethodAnswer(Answer):
    """One listable method"""

    method: PublicPaymentMethod


class Language(Answer):
    code: str
    name: str


class LanguagesAnswer(WholeList):
    """The languages, and the default one"""

    languages: list[Language]
    default: str
