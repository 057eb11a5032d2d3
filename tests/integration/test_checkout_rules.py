"""POST /api/v1/user/checkout and POST /api/v1/subscriptions: the rules of checkout-and-payments.md §5.1–§5.2.

Every rule in the contract's order with its exact message, the first failing rule answering when several fail, and
the standard errors of README §1.2–§1.4. Shared seeded account: every test buys as a user it registered itself
(seeded users are only used where the seed data is the point, and only in ways other tests do not depend on).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from chalicelib.core.config import reload_settings
from chalicelib.plugins.registry import forget_cached_states
from chalicelib.subscriptions.models import SubscriptionItem
from tests.contract import (
    API_BOOST,
    BASIC,
    ENTERPRISE,
    EXTRA_STORAGE,
    LEGACY_ADDON,
    LEGACY_BUNDLE,
    LEGACY_PLAN,
    PRIORITY_SUPPORT,
    PRO,
    PROFESSIONAL,
    STARTER,
    TOKENS_100,
    WHITE_LABEL,
)
from tests.integration.buyers import CHECKOUT, SUBSCRIBE, created, register_buyer, set_holding

UNKNOWN = "0b6f7c1e-9d4a-4c59-8a3e-5f2d7c9b1a10"
UNKNOWN_2 = "7c1d2e3f-4a5b-4c6d-8e7f-901a2b3c4d5e"

RULE_1 = "At least one item required (plan_id, token_bundle_ids, or add_on_ids)"
TOO_MANY = "Too many items (max 20 token bundles and 20 add-ons)"
IS_SINGLE = (
    "User already has an active subscription in category 'Subscription plans'. Please upgrade or downgrade instead."
)
STRIPE_ENV = ("STRIPE_SECRET_KEY", "STRIPE_TEST_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "STRIPE_TEST_WEBHOOK_SECRET")


def assert_error(answer, status: int, message: str) -> None:
    assert (answer.status, answer.json) == (status, {"error": message})
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.headers["x-request-id"]


def ids(n: int) -> list[str]:
    """`n` distinct well-formed ids of nothing in the catalog (deterministic, so parametrized runs are stable)."""
    return [str(uuid.uuid5(uuid.NAMESPACE_URL, f"checkout-rules-unknown-{i}")) for i in range(n)]


@pytest.fixture
def no_stripe_keys(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in STRIPE_ENV:
        monkeypatch.delenv(name, raising=False)
    reload_settings()
    forget_cached_states()
    yield
    monkeypatch.undo()
    reload_settings()
    forget_cached_states()


# --- standard errors (README §1.2–§1.4) ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", [CHECKOUT, SUBSCRIBE])
def test_without_a_token_is_401(api, path):
    assert_error(api.post(path, {"plan_id": BASIC}), 401, "Authorization header is required")


@pytest.mark.parametrize("path", [CHECKOUT, SUBSCRIBE])
def test_a_bad_token_is_401(api, path):
    assert_error(api.post(path, {"plan_id": BASIC}, token="not-a-jwt"), 401, "Invalid or expired token")
    answer = api.post(path, {"plan_id": BASIC}, headers={"Authorization": "Token abc"})
    assert_error(answer, 401, "Invalid Authorization header format")


@pytest.mark.parametrize("path", [CHECKOUT, SUBSCRIBE])
def test_malformed_json_is_400(api, path):
    buyer = register_buyer(api, "checkout-rules")
    answer = api.request(
        "POST", path, body='{"plan_id": ', token=buyer.token, headers={"Content-Type": "application/json"}
    )
    assert_error(answer, 400, "Invalid JSON body")


@pytest.mark.parametrize("body", ["[]", '"plan"', "42", "null"])
def test_a_body_that_is_not_an_object_is_400(api, body):
    buyer = register_buyer(api, "checkout-rules")
    answer = api.request("POST", CHECKOUT, body=body, token=buyer.token, headers={"Content-Type": "application/json"})
    assert_error(answer, 400, "Request body must be a JSON object")


def test_a_body_that_is_not_json_media_is_415(api):
    buyer = register_buyer(api, "checkout-rules")
    answer = api.request(
        "POST", CHECKOUT, body=f'{{"plan_id": "{BASIC}"}}', token=buyer.token, headers={"Content-Type": "text/plain"}
    )
    assert_error(answer, 415, "Unsupported media type")


@pytest.mark.parametrize("path", [CHECKOUT, SUBSCRIBE])
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_other_methods_are_405(api, path, method):
    buyer = register_buyer(api, "checkout-rules")
    answer = api.request(method, path, token=buyer.token)
    assert_error(answer, 405, "Method not allowed")
    assert answer.headers["allow"] == "POST"


def test_the_trailing_slash_is_optional(api):
    buyer = register_buyer(api, "checkout-rules")
    assert created(api.post(CHECKOUT + "/", {"plan_id": BASIC}, token=buyer.token))["invoice"]["status"] == "PENDING"
    assert created(api.post(SUBSCRIBE + "/", {"plan_id": BASIC}, token=buyer.token))["invoice"]["status"] == "PENDING"


# --- rule 1: at least one item ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"plan_id": None},
        {"token_bundle_ids": []},
        {"add_on_ids": None},
        {"plan_id": None, "token_bundle_ids": [], "add_on_ids": []},
        {"currency": "EUR", "payment_method_code": "sandbox"},
        {"plans": [BASIC], "bundle_ids": [TOKENS_100]},
        # rule 1 comes before the currency and payment-method rules
        {"currency": "XXX", "payment_method_code": "nope"},
    ],
)
def test_rule_1_a_basket_without_items(api, body):
    buyer = register_buyer(api, "checkout-rules")
    assert_error(api.post(CHECKOUT, body, token=buyer.token), 400, RULE_1)


def test_rule_1_an_empty_body_counts_as_an_empty_object(api):
    buyer = register_buyer(api, "checkout-rules")
    answer = api.request("POST", CHECKOUT, body=b"", token=buyer.token)
    assert_error(answer, 400, RULE_1)


# --- rule 2: formats ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"plan_id": "basic"}, "Invalid plan_id format"),
        ({"plan_id": 123}, "Invalid plan_id format"),
        ({"plan_id": BASIC[:-1]}, "Invalid plan_id format"),
        ({"plan_id": True}, "Invalid plan_id format"),
        ({"plan_id": "basic", "token_bundle_ids": "x", "add_on_ids": "y"}, "Invalid plan_id format"),
        ({"token_bundle_ids": TOKENS_100}, "token_bundle_ids must be a list"),
        ({"token_bundle_ids": {"id": TOKENS_100}}, "token_bundle_ids must be a list"),
        ({"plan_id": BASIC, "token_bundle_ids": "x", "add_on_ids": "y"}, "token_bundle_ids must be a list"),
        ({"add_on_ids": EXTRA_STORAGE}, "add_on_ids must be a list"),
        ({"add_on_ids": 7, "token_bundle_ids": ["nope"]}, "add_on_ids must be a list"),
        ({"token_bundle_ids": [TOKENS_100, "nope"]}, "Invalid token_bundle_id: nope"),
        ({"token_bundle_ids": [42]}, "Invalid token_bundle_id: 42"),
        ({"token_bundle_ids": ["first", "second"]}, "Invalid token_bundle_id: first"),
        ({"token_bundle_ids": ["nope"], "add_on_ids": ["bad"]}, "Invalid token_bundle_id: nope"),
        ({"add_on_ids": [EXTRA_STORAGE, "bad"]}, "Invalid add_on_id: bad"),
        ({"add_on_ids": [12]}, "Invalid add_on_id: 12"),
        ({"add_on_ids": [None]}, "Invalid add_on_id: null"),
        ({"token_bundle_ids": [True]}, "Invalid token_bundle_id: true"),
        # every id format comes before the count
        ({"token_bundle_ids": [TOKENS_100] * 21, "add_on_ids": ["bad"]}, "Invalid add_on_id: bad"),
        ({"token_bundle_ids": [TOKENS_100] * 21}, TOO_MANY),
        ({"add_on_ids": ids(21)}, TOO_MANY),
        ({"token_bundle_ids": [TOKENS_100] * 21, "add_on_ids": ids(21)}, TOO_MANY),
        # the count comes before repeats
        ({"add_on_ids": [EXTRA_STORAGE] * 21}, TOO_MANY),
        ({"add_on_ids": [EXTRA_STORAGE, API_BOOST, EXTRA_STORAGE]}, f"Duplicate add_on_id: {EXTRA_STORAGE}"),
        ({"add_on_ids": [EXTRA_STORAGE, EXTRA_STORAGE.upper()]}, f"Duplicate add_on_id: {EXTRA_STORAGE.upper()}"),
        # rule 2 comes before the currency (3) and the catalog rules (4–8)
        ({"add_on_ids": [UNKNOWN, UNKNOWN], "currency": "XXX"}, f"Duplicate add_on_id: {UNKNOWN}"),
        ({"plan_id": UNKNOWN, "token_bundle_ids": ["nope"]}, "Invalid token_bundle_id: nope"),
    ],
)
def test_rule_2_formats(api, body, message):
    buyer = register_buyer(api, "checkout-rules")
    assert_error(api.post(CHECKOUT, body, token=buyer.token), 400, message)


def test_rule_2_twenty_entries_of_each_are_allowed(api):
    buyer = register_buyer(api, "checkout-rules")
    body = created(api.post(CHECKOUT, {"token_bundle_ids": [TOKENS_100] * 20}, token=buyer.token))
    assert len(body["token_bundles"]) == 20
    assert len(body["invoice"]["line_items"]) == 20
    assert body["invoice"]["total_amount"] == "60.00"
    twenty = ids(20)  # twenty distinct add-on ids pass rule 2 and reach the catalog rule
    assert_error(api.post(CHECKOUT, {"add_on_ids": twenty}, token=buyer.token), 400, f"Add-on {twenty[0]} not found")


# --- rule 3: currency ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"plan_id": BASIC, "currency": "XXX"}, "Unknown currency: XXX"),
        ({"plan_id": BASIC, "currency": "xxx"}, "Unknown currency: XXX"),
        ({"token_bundle_ids": [TOKENS_100], "currency": "Euro"}, "Unknown currency: EURO"),
        # the currency rule comes before the plan and the other catalog rules
        ({"plan_id": UNKNOWN, "currency": "XXX"}, "Unknown currency: XXX"),
        ({"plan_id": LEGACY_PLAN, "token_bundle_ids": [UNKNOWN], "currency": "ABC"}, "Unknown currency: ABC"),
    ],
)
def test_rule_3_unknown_currency(api, body, message):
    buyer = register_buyer(api, "checkout-rules")
    assert_error(api.post(CHECKOUT, body, token=buyer.token), 400, message)


@pytest.mark.parametrize(
    ("currency", "message"),
    [
        (5, "Unknown currency: 5"),
        (True, "Unknown currency: TRUE"),
        (["USD"], 'Unknown currency: ["USD"]'),
        ({"code": "usd"}, 'Unknown currency: {"CODE": "USD"}'),
    ],
)
def test_rule_3_a_currency_that_is_not_a_string_is_refused(api, currency, message):
    buyer = register_buyer(api, "checkout-rules")
    assert_error(api.post(CHECKOUT, {"plan_id": BASIC, "currency": currency}, token=buyer.token), 400, message)


@pytest.mark.parametrize("currency", [None, [], "", "  "])
def test_rule_3_an_absent_currency_is_the_plan_currency(api, currency):
    buyer = register_buyer(api, "checkout-rules")
    body = created(api.post(CHECKOUT, {"plan_id": BASIC, "currency": currency}, token=buyer.token))
    assert body["invoice"]["currency"] == "EUR"


def test_rule_3_the_currency_is_trimmed(api):
    buyer = register_buyer(api, "checkout-rules")
    assert (
        created(api.post(CHECKOUT, {"plan_id": BASIC, "currency": " gbp "}, token=buyer.token))["invoice"]["currency"]
        == "GBP"
    )


def test_rule_3_the_currency_is_case_insensitive(api):
    buyer = register_buyer(api, "checkout-rules")
    body = created(api.post(CHECKOUT, {"plan_id": BASIC, "currency": "usd"}, token=buyer.token))
    assert body["invoice"]["currency"] == "USD"


# --- rule 4: plan -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"plan_id": UNKNOWN}, "Plan not found"),
        ({"plan_id": UNKNOWN.upper()}, "Plan not found"),
        ({"plan_id": LEGACY_PLAN}, "Plan is not active"),
        ({"plan_id": LEGACY_PLAN.upper()}, "Plan is not active"),
        # the plan rule comes before bundles, add-ons and the payment method
        ({"plan_id": UNKNOWN, "token_bundle_ids": [UNKNOWN_2]}, "Plan not found"),
        ({"plan_id": LEGACY_PLAN, "add_on_ids": [LEGACY_ADDON], "payment_method_code": "nope"}, "Plan is not active"),
    ],
)
def test_rule_4_plan(api, body, message):
    buyer = register_buyer(api, "checkout-rules")
    assert_error(api.post(CHECKOUT, body, token=buyer.token), 400, message)


def test_rule_4_a_plan_id_in_upper_case_is_the_same_plan(api):
    buyer = register_buyer(api, "checkout-rules")
    body = created(api.post(CHECKOUT, {"plan_id": BASIC.upper()}, token=buyer.token))
    assert body["subscription"]["plan"] == {"id": BASIC, "name": "Basic", "slug": "basic"}
    assert body["invoice"]["tarif_plan_id"] == BASIC


# --- rule 5: is_single categories ---------------------------------------------------------------------------------


def test_rule_5_a_second_plan_of_an_exclusive_category_while_the_first_trials(api):
    buyer = register_buyer(api, "checkout-rules")
    first = created(api.post(CHECKOUT, {"plan_id": STARTER}, token=buyer.token))
    assert first["subscription"]["status"] == "TRIALING"

    assert_error(api.post(CHECKOUT, {"plan_id": STARTER}, token=buyer.token), 400, IS_SINGLE)
    assert_error(api.post(CHECKOUT, {"plan_id": PROFESSIONAL}, token=buyer.token), 400, IS_SINGLE)
    assert_error(api.post(SUBSCRIBE, {"plan_id": PROFESSIONAL}, token=buyer.token), 400, IS_SINGLE)


@pytest.mark.parametrize(
    ("status", "refused"),
    [
        ("TRIALING", True),
        ("ACTIVE", True),
        ("PAST_DUE", True),
        ("PAUSED", True),
        ("PENDING", False),
        ("CANCELLED", False),
        ("EXPIRED", False),
    ],
)
def test_rule_5_which_statuses_hold_the_category(api, status, refused):
    buyer = register_buyer(api, "checkout-rules")
    first = created(api.post(CHECKOUT, {"plan_id": STARTER}, token=buyer.token))
    set_holding(SubscriptionItem, buyer.user_id, first["subscription"]["id"], status=status)
    answer = api.post(CHECKOUT, {"plan_id": PROFESSIONAL}, token=buyer.token)
    if refused:
        assert_error(answer, 400, IS_SINGLE)
    else:
        assert created(answer)["subscription"]["plan"]["slug"] == "professional"


def test_rule_5_comes_before_bundles_add_ons_and_the_payment_method(api):
    buyer = register_buyer(api, "checkout-rules")
    created(api.post(CHECKOUT, {"plan_id": STARTER}, token=buyer.token))
    body = {
        "plan_id": PROFESSIONAL,
        "token_bundle_ids": [UNKNOWN],
        "add_on_ids": [LEGACY_ADDON],
        "payment_method_code": "nope",
    }
    assert_error(api.post(CHECKOUT, body, token=buyer.token), 400, IS_SINGLE)


def test_rule_5_pending_subscriptions_do_not_count(api):
    buyer = register_buyer(api, "checkout-rules")
    # the trial goes to `pro` (root, not exclusive); the `starter` checkouts after it are plain PENDING ones
    assert created(api.post(CHECKOUT, {"plan_id": PRO}, token=buyer.token))["trial_applied"] is True
    first = created(api.post(CHECKOUT, {"plan_id": STARTER}, token=buyer.token))
    second = created(api.post(CHECKOUT, {"plan_id": STARTER}, token=buyer.token))
    third = created(api.post(CHECKOUT, {"plan_id": PROFESSIONAL}, token=buyer.token))
    assert [b["subscription"]["status"] for b in (first, second, third)] == ["PENDING"] * 3
    assert len({b["subscription"]["id"] for b in (first, second, third)}) == 3


def test_rule_5_non_exclusive_categories_allow_several_subscriptions(api):
    buyer = register_buyer(api, "checkout-rules")
    first = created(api.post(CHECKOUT, {"plan_id": PRO}, token=buyer.token))
    assert first["subscription"]["status"] == "TRIALING"
    second = created(api.post(CHECKOUT, {"plan_id": PRO}, token=buyer.token))
    assert second["subscription"]["status"] == "PENDING"
    # test@example.com holds an ACTIVE plan of `root`; `basic` (root, not exclusive) is still accepted
    token = api.token("test@example.com", "TestPass123@")
    assert created(api.post(CHECKOUT, {"plan_id": BASIC}, token=token))["subscription"]["status"] == "PENDING"


# --- rule 6: token bundles ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"token_bundle_ids": [UNKNOWN]}, f"Token bundle {UNKNOWN} not found"),
        ({"token_bundle_ids": [UNKNOWN.upper()]}, f"Token bundle {UNKNOWN} not found"),
        ({"token_bundle_ids": [TOKENS_100, UNKNOWN, UNKNOWN_2]}, f"Token bundle {UNKNOWN} not found"),
        ({"token_bundle_ids": [LEGACY_BUNDLE]}, "Token bundle 50 Tokens (legacy) is not active"),
        (
            {"plan_id": BASIC, "token_bundle_ids": [LEGACY_BUNDLE, UNKNOWN]},
            "Token bundle 50 Tokens (legacy) is not active",
        ),
        # bundles come before add-ons and the payment method
        (
            {"token_bundle_ids": [UNKNOWN], "add_on_ids": [UNKNOWN_2], "payment_method_code": "nope"},
            f"Token bundle {UNKNOWN} not found",
        ),
    ],
)
def test_rule_6_token_bundles(api, body, message):
    buyer = register_buyer(api, "checkout-rules")
    assert_error(api.post(CHECKOUT, body, token=buyer.token), 400, message)


# --- rule 7: add-ons ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"add_on_ids": [UNKNOWN]}, f"Add-on {UNKNOWN} not found"),
        ({"add_on_ids": [UNKNOWN.upper()]}, f"Add-on {UNKNOWN} not found"),
        ({"add_on_ids": [EXTRA_STORAGE, UNKNOWN]}, f"Add-on {UNKNOWN} not found"),
        ({"add_on_ids": [LEGACY_ADDON]}, "Add-on Legacy Add-on is not active"),
        ({"plan_id": BASIC, "add_on_ids": [LEGACY_ADDON, UNKNOWN]}, "Add-on Legacy Add-on is not active"),
        # plan-bound add-ons: only with one of their plans, or for a subscriber of one
        ({"add_on_ids": [PRIORITY_SUPPORT]}, "Add-on Priority Support is not available for your plan"),
        (
            {"plan_id": BASIC, "add_on_ids": [PRIORITY_SUPPORT]},
            "Add-on Priority Support is not available for your plan",
        ),
        ({"plan_id": PRO, "add_on_ids": [WHITE_LABEL]}, "Add-on White Label is not available for your plan"),
        (
            {"plan_id": PRO, "add_on_ids": [PRIORITY_SUPPORT, API_BOOST]},
            "Add-on API Boost is not available for your plan",
        ),
        # add-ons come before the payment method
        ({"add_on_ids": [LEGACY_ADDON], "payment_method_code": "nope"}, "Add-on Legacy Add-on is not active"),
    ],
)
def test_rule_7_add_ons(api, body, message):
    buyer = register_buyer(api, "checkout-rules")
    assert_error(api.post(CHECKOUT, body, token=buyer.token), 400, message)


def test_rule_7_a_plan_bound_add_on_is_refused_to_a_subscriber_of_another_plan(api):
    token = api.token("test@example.com", "TestPass123@")  # ACTIVE on test-data-basic-plan
    message = "Add-on Priority Support is not available for your plan"
    assert_error(api.post(CHECKOUT, {"add_on_ids": [PRIORITY_SUPPORT]}, token=token), 400, message)


def test_rule_7_a_pending_subscription_on_a_bound_plan_does_not_unlock_the_add_on(api):
    buyer = register_buyer(api, "checkout-rules")
    created(api.post(CHECKOUT, {"plan_id": PRO}, token=buyer.token))  # TRIALING: valid
    created(api.post(CHECKOUT, {"plan_id": ENTERPRISE}, token=buyer.token))  # PENDING: not valid
    message = "Add-on White Label is not available for your plan"
    assert_error(api.post(CHECKOUT, {"add_on_ids": [WHITE_LABEL]}, token=buyer.token), 400, message)


def test_rule_7_a_plan_bound_add_on_is_accepted_with_its_plan(api):
    buyer = register_buyer(api, "checkout-rules")
    body = created(api.post(CHECKOUT, {"plan_id": PRO, "add_on_ids": [PRIORITY_SUPPORT]}, token=buyer.token))
    assert [a["addon_id"] for a in body["add_ons"]] == [PRIORITY_SUPPORT]
    assert body["add_ons"][0]["subscription_id"] == body["subscription"]["id"]

    other = register_buyer(api, "checkout-rules")
    body = created(api.post(CHECKOUT, {"plan_id": PROFESSIONAL, "add_on_ids": [API_BOOST]}, token=other.token))
    assert [a["addon_id"] for a in body["add_ons"]] == [API_BOOST]


def test_rule_7_a_plan_bound_add_on_is_accepted_alone_for_a_subscriber(api):
    token = api.token("user.pro@demo.local", "DemoPass123!")
    subscriptions = api.get("/api/v1/user/subscriptions", token=token).json["subscriptions"]
    (pro,) = [s for s in subscriptions if s["plan"]["slug"] == "pro" and s["status"] == "ACTIVE"]
    body = created(api.post(CHECKOUT, {"add_on_ids": [PRIORITY_SUPPORT]}, token=token))
    assert body["add_ons"][0]["subscription_id"] == pro["id"]
    assert body["add_ons"][0]["status"] == "PENDING"


def test_rule_7_a_trialing_subscription_on_a_bound_plan_unlocks_the_add_on(api):
    buyer = register_buyer(api, "checkout-rules")
    trial = created(api.post(CHECKOUT, {"plan_id": PRO}, token=buyer.token))
    body = created(api.post(CHECKOUT, {"add_on_ids": [PRIORITY_SUPPORT]}, token=buyer.token))
    assert body["add_ons"][0]["subscription_id"] == trial["subscription"]["id"]
    # TRIALING only when bought together with the trialing plan; bought later it waits for its payment
    assert body["add_ons"][0]["status"] == "PENDING"


@pytest.mark.parametrize(
    ("status", "available"),
    [
        ("TRIALING", True),
        ("ACTIVE", True),
        ("PAST_DUE", True),
        ("PAUSED", False),
        ("PENDING", False),
        ("CANCELLED", False),
        ("EXPIRED", False),
    ],
)
def test_rule_7_which_statuses_unlock_a_plan_bound_add_on(api, status, available):
    buyer = register_buyer(api, "checkout-rules")
    first = created(api.post(CHECKOUT, {"plan_id": PRO}, token=buyer.token))
    set_holding(SubscriptionItem, buyer.user_id, first["subscription"]["id"], status=status)
    answer = api.post(CHECKOUT, {"add_on_ids": [PRIORITY_SUPPORT]}, token=buyer.token)
    if available:
        assert created(answer)["add_ons"][0]["subscription_id"] == first["subscription"]["id"]
    else:
        assert_error(answer, 400, "Add-on Priority Support is not available for your plan")


# --- rule 8: payment method ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["nope", "yookassa", "stripe", "paypal", "none", "manual"])
def test_rule_8_unavailable_payment_methods(api, no_stripe_keys, code):
    buyer = register_buyer(api, "checkout-rules")
    answer = api.post(CHECKOUT, {"plan_id": BASIC, "payment_method_code": code}, token=buyer.token)
    assert_error(answer, 400, f"Payment method not available: {code}")


@pytest.mark.parametrize(("code", "shown"), [(7, "7"), (False, "false"), (["sandbox"], '["sandbox"]')])
def test_rule_8_a_payment_method_that_is_not_a_string_is_refused(api, code, shown):
    buyer = register_buyer(api, "checkout-rules")
    answer = api.post(CHECKOUT, {"plan_id": BASIC, "payment_method_code": code}, token=buyer.token)
    assert_error(answer, 400, f"Payment method not available: {shown}")


@pytest.mark.parametrize("code", ["invoice", "sandbox"])
def test_rule_8_available_payment_methods(api, code):
    buyer = register_buyer(api, "checkout-rules")
    body = created(api.post(CHECKOUT, {"plan_id": BASIC, "payment_method_code": code}, token=buyer.token))
    assert body["invoice"]["payment_method"] == code


def test_rule_8_the_payment_method_is_checked_for_bundle_and_add_on_baskets_too(api):
    buyer = register_buyer(api, "checkout-rules")
    body = {"token_bundle_ids": [TOKENS_100], "add_on_ids": [EXTRA_STORAGE], "payment_method_code": "bitcoin"}
    assert_error(api.post(CHECKOUT, body, token=buyer.token), 400, "Payment method not available: bitcoin")


# --- POST /api/v1/subscriptions (§5.2) ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "plan_id is required"),
        ({"plan_id": None}, "plan_id is required"),
        ({"token_bundle_ids": [TOKENS_100]}, "plan_id is required"),
        ({"add_on_ids": [EXTRA_STORAGE], "currency": "XXX"}, "plan_id is required"),
        ({"plan_id": "basic"}, "Invalid plan_id format"),
        ({"plan_id": BASIC, "add_on_ids": "x"}, "add_on_ids must be a list"),
        ({"plan_id": BASIC, "add_on_ids": ["x"]}, "Invalid add_on_id: x"),
        ({"plan_id": BASIC, "add_on_ids": [EXTRA_STORAGE, EXTRA_STORAGE]}, f"Duplicate add_on_id: {EXTRA_STORAGE}"),
        ({"plan_id": BASIC, "currency": "XXX"}, "Unknown currency: XXX"),
        ({"plan_id": UNKNOWN}, "Plan not found"),
        ({"plan_id": LEGACY_PLAN}, "Plan is not active"),
        ({"plan_id": BASIC, "add_on_ids": [UNKNOWN]}, f"Add-on {UNKNOWN} not found"),
        ({"plan_id": BASIC, "add_on_ids": [LEGACY_ADDON]}, "Add-on Legacy Add-on is not active"),
        (
            {"plan_id": BASIC, "add_on_ids": [PRIORITY_SUPPORT]},
            "Add-on Priority Support is not available for your plan",
        ),
        ({"plan_id": BASIC, "payment_method_code": "nope"}, "Payment method not available: nope"),
    ],
)
def test_subscriptions_route_rules(api, body, message):
    buyer = register_buyer(api, "checkout-rules")
    assert_error(api.post(SUBSCRIBE, body, token=buyer.token), 400, message)


def test_subscriptions_route_creates_what_checkout_creates(api):
    buyer = register_buyer(api, "checkout-rules", country="DE")
    body = {"plan_id": BASIC, "add_on_ids": [EXTRA_STORAGE], "currency": "eur", "payment_method_code": "sandbox"}
    answer = created(api.post(SUBSCRIBE, body, token=buyer.token))
    assert set(answer) == {"invoice", "subscription", "trial_applied", "token_bundles", "add_ons", "message"}
    assert answer["message"] == "Checkout created. Awaiting payment."
    assert answer["trial_applied"] is False
    invoice = answer["invoice"]
    assert (invoice["billing_reason"], invoice["status"], invoice["currency"]) == (
        "SUBSCRIPTION_CREATE",
        "PENDING",
        "EUR",
    )
    assert invoice["payment_method"] == "sandbox"
    assert [(line["item_type"], line["gross_amount"]) for line in invoice["line_items"]] == [
        ("SUBSCRIPTION", "11.89"),
        ("ADD_ON", "5.94"),
    ]
    assert (invoice["subtotal"], invoice["tax_amount"], invoice["total_amount"]) == ("14.98", "2.85", "17.83")
    assert answer["subscription"]["plan"] == {"id": BASIC, "name": "Basic", "slug": "basic"}
    assert answer["subscription"]["status"] == "PENDING"
    assert answer["add_ons"][0]["subscription_id"] == answer["subscription"]["id"]
    assert answer["token_bundles"] == []


def test_subscriptions_route_ignores_token_bundles(api):
    buyer = register_buyer(api, "checkout-rules")
    answer = created(api.post(SUBSCRIBE, {"plan_id": BASIC, "token_bundle_ids": [TOKENS_100]}, token=buyer.token))
    assert answer["token_bundles"] == []
    assert [line["item_type"] for line in answer["invoice"]["line_items"]] == ["SUBSCRIPTION"]
    assert answer["invoice"]["total_amount"] == "9.99"


def test_subscriptions_route_applies_a_trial(api):
    buyer = register_buyer(api, "checkout-rules")
    answer = created(api.post(SUBSCRIBE, {"plan_id": PRO}, token=buyer.token))
    assert (answer["trial_applied"], answer["subscription"]["status"]) == (True, "TRIALING")
