"""POST /api/v1/user/checkout against changed stored state: plugin gate, catalog and config changes, failures at
commit, concurrent checkouts.

Contract README §1.1 (plugins), §1.10 (concurrent duplicates), §1.12; checkout-and-payments.md §4.1 (gapless
numbers), §5.1 (rule 4 maximum, rule 8 and the default method, all or nothing), subscriptions.md §6 (trials).
Each test gets a seeded account of its own (`fresh_api`) and changes records directly in the store, as an admin
write or a concurrent request would leave them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from pynamodb.exceptions import DoesNotExist

from chalicelib.catalog.models import AddonItem, PaymentMethodItem, PlanItem, PluginItem, TokenBundleItem
from chalicelib.core import clock
from chalicelib.core.ids import seed_id
from chalicelib.invoices.models import InvoiceItem, TokenBundlePurchaseItem
from chalicelib.store.base import SubscriptionsTable
from chalicelib.store.numbering import NumberGuardItem, SequenceItem, sequence_key
from chalicelib.store.outbox import OutboxItem
from chalicelib.subscriptions.models import AddonSubscriptionItem, SubscriptionItem
from chalicelib.users.models import UserItem, user_key
from tests.contract import (
    BASIC,
    BASIC_USD,
    EXTRA_STORAGE,
    FREE,
    INVOICE_METHOD,
    LEGACY_ADDON,
    LEGACY_PLAN,
    PLUGIN_NOT_ENABLED,
    PRO,
    PROFESSIONAL,
    STARTER,
    TOKENS_100,
)
from tests.integration.buyers import (
    CHECKOUT,
    SUBSCRIBE,
    change,
    change_settings,
    checkout,
    register_buyer,
    set_plugin,
)
from tests.integration.conftest import at_once, outbox_events

DE_USER = ("user.de@demo.local", "DemoPass123!")


def sequence_value() -> int:
    try:
        return int(SequenceItem.get(*sequence_key("INV", clock.now().year), consistent_read=True).value)
    except DoesNotExist:
        return 0


def number(value: int) -> str:
    return f"INV-{clock.now().year}-{value:06d}"


def outbox_size() -> int:
    return len(outbox_events())


def stored_of(user_id: str) -> dict[str, list[str]]:
    """Ids of everything a checkout writes for this user, read from the store itself."""
    holdings = list(SubscriptionsTable.query(f"USER#{user_id}", consistent_read=True))
    invoices = [i for i in InvoiceItem.scan() if isinstance(i, InvoiceItem) and i.user_id == user_id]
    purchases = [
        p for p in TokenBundlePurchaseItem.scan() if isinstance(p, TokenBundlePurchaseItem) and p.user_id == user_id
    ]
    return {
        "invoices": sorted(i.id for i in invoices),
        "subscriptions": sorted(s.id for s in holdings if isinstance(s, SubscriptionItem)),
        "add_ons": sorted(a.id for a in holdings if isinstance(a, AddonSubscriptionItem)),
        "purchases": sorted(p.id for p in purchases),
    }


def ids_in(body: dict[str, Any]) -> dict[str, list[str]]:
    return {
        "invoices": [body["invoice"]["id"]],
        "subscriptions": [body["subscription"]["id"]] if "subscription" in body else [],
        "add_ons": sorted(a["id"] for a in body["add_ons"]),
        "purchases": sorted(p["id"] for p in body["token_bundles"]),
    }


NOTHING: dict[str, list[str]] = {"invoices": [], "subscriptions": [], "add_ons": [], "purchases": []}


# --- plugin gate (README §1.1) ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [CHECKOUT, SUBSCRIBE])
def test_checkout_answers_404_while_the_subscription_plugin_is_disabled(fresh_api, path):
    token = fresh_api.token(*DE_USER)
    set_plugin("subscription", False)
    answer = fresh_api.post(path, {"plan_id": BASIC}, token=token)
    assert (answer.status, answer.json) == (404, PLUGIN_NOT_ENABLED)
    # the gate comes before authentication and body checks
    assert fresh_api.post(path, {"plan_id": BASIC}).json == PLUGIN_NOT_ENABLED
    garbled = fresh_api.request("POST", path, body="{", token=token, headers={"Content-Type": "application/json"})
    assert (garbled.status, garbled.json) == (404, PLUGIN_NOT_ENABLED)
    assert stored_of(seed_id("user", DE_USER[0])) == NOTHING


def test_checkout_answers_again_once_the_plugin_is_re_enabled(fresh_api):
    token = fresh_api.token(*DE_USER)
    set_plugin("subscription", False)
    assert fresh_api.post(CHECKOUT, {"plan_id": BASIC}, token=token).status == 404
    set_plugin("subscription", True)
    assert checkout(fresh_api, token, {"plan_id": BASIC})["invoice"]["status"] == "PENDING"


# --- catalog and configuration changes ----------------------------------------------------------------------------


def test_a_plan_deactivated_after_a_checkout_is_refused_next_time(fresh_api):
    token = register_buyer(fresh_api, "checkout-state").token
    first = checkout(fresh_api, token, {"plan_id": BASIC})
    change(PlanItem, *PlanItem.key(BASIC), is_active=False)
    answer = fresh_api.post(CHECKOUT, {"plan_id": BASIC}, token=token)
    assert (answer.status, answer.json) == (400, {"error": "Plan is not active"})
    read = fresh_api.get(f"/api/v1/user/invoices/{first['invoice']['id']}", token=token).json["invoice"]
    assert read == first["invoice"]


def test_a_price_change_applies_to_new_checkouts_only(fresh_api):
    token = register_buyer(fresh_api, "checkout-state", country="DE").token
    first = checkout(fresh_api, token, {"plan_id": BASIC})["invoice"]
    change(PlanItem, *PlanItem.key(BASIC), price=Decimal("12.00"))
    second = checkout(fresh_api, token, {"plan_id": BASIC})["invoice"]
    assert (second["subtotal"], second["tax_amount"], second["total_amount"]) == ("12.00", "2.28", "14.28")
    assert fresh_api.get(f"/api/v1/user/invoices/{first['id']}", token=token).json["invoice"] == first
    assert first["total_amount"] == "11.89"


def test_a_zero_price_plan_never_trials(fresh_api, manual_clock):
    change(PlanItem, *PlanItem.key(FREE), trial_days=7)
    token = register_buyer(fresh_api, "checkout-state").token
    body = checkout(fresh_api, token, {"plan_id": FREE})
    assert body["trial_applied"] is False
    assert body["message"] == "Checkout complete. Free plan activated."
    assert (body["subscription"]["status"], body["subscription"]["trial_end_at"]) == ("ACTIVE", None)
    assert body["subscription"]["expires_at"] == "2026-06-01T09:00:00Z"
    assert "trial_end_at" not in body["invoice"]["line_items"][0]["metadata"]
    # the trial was not used up
    assert checkout(fresh_api, token, {"plan_id": PRO})["trial_applied"] is True


def test_the_maximum_number_of_subscriptions(fresh_api):
    change(PluginItem, *PluginItem.key("subscription"), config={"max_subscriptions_per_user": 2})
    token = register_buyer(fresh_api, "checkout-state").token
    checkout(fresh_api, token, {"plan_id": PRO})  # TRIALING: counts
    checkout(fresh_api, token, {"plan_id": BASIC})  # PENDING: does not count
    checkout(fresh_api, token, {"plan_id": FREE})  # ACTIVE at once: counts
    for path in (CHECKOUT, SUBSCRIBE):
        answer = fresh_api.post(path, {"plan_id": BASIC}, token=token)
        assert (answer.status, answer.json) == (400, {"error": "Maximum number of subscriptions reached (2)"})
    # bundles and add-ons alone are not subscriptions
    checkout(fresh_api, token, {"token_bundle_ids": [TOKENS_100], "add_on_ids": [EXTRA_STORAGE]})


def test_the_maximum_is_checked_before_is_single(fresh_api):
    change(PluginItem, *PluginItem.key("subscription"), config={"max_subscriptions_per_user": 1})
    token = register_buyer(fresh_api, "checkout-state").token
    assert checkout(fresh_api, token, {"plan_id": STARTER})["subscription"]["status"] == "TRIALING"
    answer = fresh_api.post(CHECKOUT, {"plan_id": PROFESSIONAL}, token=token)
    assert (answer.status, answer.json) == (400, {"error": "Maximum number of subscriptions reached (1)"})


def test_the_default_method_is_not_recorded_where_it_cannot_take_the_payment(fresh_api):
    change(PaymentMethodItem, *PaymentMethodItem.key(INVOICE_METHOD), currencies=["EUR"])
    token = register_buyer(fresh_api, "checkout-state").token
    body = checkout(fresh_api, token, {"plan_id": BASIC_USD})
    assert (body["invoice"]["currency"], body["invoice"]["payment_method"]) == ("USD", None)
    assert body["subscription"]["payment_method_code"] is None
    answer = fresh_api.post(CHECKOUT, {"plan_id": BASIC_USD, "payment_method_code": "invoice"}, token=token)
    assert (answer.status, answer.json) == (400, {"error": "Payment method not available: invoice"})
    assert checkout(fresh_api, token, {"plan_id": BASIC})["invoice"]["payment_method"] == "invoice"


def test_payment_method_amount_and_country_bounds(fresh_api):
    change(PaymentMethodItem, *PaymentMethodItem.key(INVOICE_METHOD), max_amount=Decimal("10.00"), countries=["DE"])
    token = register_buyer(fresh_api, "checkout-state", country="DE").token
    # 9.99 + 19 % = 11.89 is above the bound
    answer = fresh_api.post(CHECKOUT, {"plan_id": BASIC, "payment_method_code": "invoice"}, token=token)
    assert (answer.status, answer.json) == (400, {"error": "Payment method not available: invoice"})
    assert checkout(fresh_api, token, {"plan_id": BASIC})["invoice"]["payment_method"] is None
    assert checkout(fresh_api, token, {"token_bundle_ids": [TOKENS_100]})["invoice"]["payment_method"] == "invoice"
    th_token = register_buyer(fresh_api, "checkout-state", country="TH").token
    answer = fresh_api.post(
        CHECKOUT, {"token_bundle_ids": [TOKENS_100], "payment_method_code": "invoice"}, token=th_token
    )
    assert (answer.status, answer.json) == (400, {"error": "Payment method not available: invoice"})


def test_a_disabled_sandbox_plugin_makes_sandbox_unavailable(fresh_api):
    set_plugin("sandbox", False)
    token = register_buyer(fresh_api, "checkout-state").token
    answer = fresh_api.post(CHECKOUT, {"plan_id": BASIC, "payment_method_code": "sandbox"}, token=token)
    assert (answer.status, answer.json) == (400, {"error": "Payment method not available: sandbox"})


# --- zero totals are captured in the checkout's transaction (§5.1, §6.2) ------------------------------------------


def test_a_free_plan_with_tokens_credits_them_at_once(fresh_api, manual_clock):
    change(PlanItem, *PlanItem.key(FREE), features={"default_tokens": 5})
    buyer = register_buyer(fresh_api, "checkout-state")
    token, user_id = buyer.token, buyer.user_id
    body = checkout(fresh_api, token, {"plan_id": FREE})
    assert body["subscription"]["status"] == "ACTIVE"
    assert fresh_api.get("/api/v1/user/tokens/balance", token=token).json == {"balance": 5}
    credited = [e["data"] for e in outbox_events("tokens.credited") if e["data"]["user_id"] == user_id]
    assert [(c["amount"], c["balance_after"], c["transaction_type"]) for c in credited] == [(5, 5, "SUBSCRIPTION")]


def test_a_zero_total_activates_add_ons_with_their_parent(fresh_api, manual_clock):
    change(AddonItem, *AddonItem.key(EXTRA_STORAGE), price=Decimal("0.00"))
    token = register_buyer(fresh_api, "checkout-state").token
    body = checkout(fresh_api, token, {"plan_id": FREE, "add_on_ids": [EXTRA_STORAGE]})
    assert body["invoice"]["status"] == "PAID"
    (addon,) = body["add_ons"]
    assert {k: addon[k] for k in ("status", "is_valid", "subscription_id", "starts_at", "expires_at")} == {
        "status": "ACTIVE",
        "is_valid": True,
        "subscription_id": body["subscription"]["id"],
        "starts_at": "2026-05-01T09:00:00Z",
        "expires_at": "2026-06-01T09:00:00Z",  # co-terminous with the parent
    }


def test_a_zero_total_bundle_purchase_is_completed_at_once(fresh_api, manual_clock):
    change(TokenBundleItem, *TokenBundleItem.key(TOKENS_100), price=Decimal("0.00"))
    token = register_buyer(fresh_api, "checkout-state", country="DE").token
    body = checkout(fresh_api, token, {"token_bundle_ids": [TOKENS_100]})
    assert body["message"] == "Checkout complete. Free plan activated."
    assert set(body) == {"invoice", "token_bundles", "add_ons", "message"}
    invoice, (purchase,) = body["invoice"], body["token_bundles"]
    assert (invoice["status"], invoice["total_amount"], invoice["payment_ref"]) == ("PAID", "0.00", "zero-price")
    assert {k: purchase[k] for k in ("status", "tokens_credited", "completed_at", "price")} == {
        "status": "COMPLETED",
        "tokens_credited": True,
        "completed_at": "2026-05-01T09:00:00Z",
        "price": "0.00",
    }
    assert fresh_api.get("/api/v1/user/tokens/balance", token=token).json == {"balance": 100}


# --- numbers and due dates from the settings (§4.1, §4.3) ---------------------------------------------------------


def test_the_invoice_prefix_setting_names_its_own_sequence(fresh_api):
    token = register_buyer(fresh_api, "checkout-state").token
    change_settings(invoice_prefix="RE")
    first = checkout(fresh_api, token, {"plan_id": BASIC})["invoice"]
    second = checkout(fresh_api, token, {"token_bundle_ids": [TOKENS_100]})["invoice"]
    year = clock.now().year
    assert (first["invoice_number"], second["invoice_number"]) == (f"RE-{year}-000001", f"RE-{year}-000002")


def test_each_calendar_year_starts_a_new_sequence(fresh_api, manual_clock):
    manual_clock.set(datetime(2031, 12, 31, 23, 59, 59, tzinfo=UTC))
    token = register_buyer(fresh_api, "checkout-state").token
    last = checkout(fresh_api, token, {"plan_id": BASIC})["invoice"]
    assert last["invoice_number"] == "INV-2031-000001"
    manual_clock.set(datetime(2032, 1, 1, 0, 0, 0, tzinfo=UTC))
    token = fresh_api.token(*DE_USER)
    first = checkout(fresh_api, token, {"plan_id": BASIC})["invoice"]
    assert (first["invoice_number"], first["invoiced_at"]) == ("INV-2032-000001", "2032-01-01T00:00:00Z")


def test_numbers_grow_past_six_digits(fresh_api):
    token = register_buyer(fresh_api, "checkout-state").token
    item = SequenceItem.get(*sequence_key("INV", clock.now().year), consistent_read=True)
    item.update(actions=[SequenceItem.value.set(999999)])
    body = checkout(fresh_api, token, {"plan_id": BASIC})
    assert body["invoice"]["invoice_number"] == f"INV-{clock.now().year}-1000000"


def test_the_due_days_setting(fresh_api, manual_clock):
    change_settings(invoice_due_days=14)
    token = register_buyer(fresh_api, "checkout-state").token
    invoice = checkout(fresh_api, token, {"plan_id": BASIC})["invoice"]
    assert (invoice["invoiced_at"], invoice["due_date"], invoice["expires_at"]) == (
        "2026-05-01T09:00:00Z",
        "2026-05-15T09:00:00Z",
        "2026-05-15T09:00:00Z",
    )


# --- all or nothing at commit (§4.1, §5.1) ------------------------------------------------------------------------


def test_a_refused_checkout_writes_nothing_and_takes_no_number(fresh_api):
    buyer = register_buyer(fresh_api, "checkout-state")
    token, user_id = buyer.token, buyer.user_id
    sequence, events = sequence_value(), outbox_size()
    refused = [
        {"plan_id": PRO, "token_bundle_ids": [TOKENS_100], "add_on_ids": [LEGACY_ADDON]},
        {"plan_id": PRO, "token_bundle_ids": [TOKENS_100], "add_on_ids": [EXTRA_STORAGE], "payment_method_code": "x"},
        {"plan_id": LEGACY_PLAN, "token_bundle_ids": [TOKENS_100]},
    ]
    for body in refused:
        assert fresh_api.post(CHECKOUT, body, token=token).status == 400
    assert stored_of(user_id) == NOTHING
    assert (sequence_value(), outbox_size()) == (sequence, events)
    body = checkout(fresh_api, token, {"plan_id": PRO})
    assert body["invoice"]["invoice_number"] == number(sequence + 1)
    assert body["trial_applied"] is True


def touch_buyer(user_id: str) -> None:
    """A concurrent write of the buyer's record (a profile change, another checkout's trial flag)."""
    user = UserItem.get(*user_key(user_id), consistent_read=True)
    user.update(actions=[UserItem.updated_at.set(clock.now())])


def guard_of(value: int) -> NumberGuardItem | None:
    try:
        return NumberGuardItem.get(*NumberGuardItem.key(number(value)), consistent_read=True)
    except DoesNotExist:
        return None


def test_a_checkout_that_loses_a_race_at_commit_retries_with_the_number_it_holds(fresh_api, monkeypatch):
    """The buyer changes between the first attempt's reads and its commit (its trial flag is written on the
    condition of the version read): the retry reads again and commits with the number the first attempt took —
    even though another checkout took the next number meanwhile. The refused attempt left nothing."""
    import chalicelib.checkout.service as service

    buyer = register_buyer(fresh_api, "checkout-state")
    other = register_buyer(fresh_api, "checkout-state")
    token, user_id = buyer.token, buyer.user_id
    start = sequence_value()
    attempts: list[dict[str, Any]] = []
    concurrent: list[dict[str, Any]] = []
    load, write = service._load, service._write

    def load_then_the_buyer_changes(user: str) -> Any:
        ctx = load(user)
        if user == user_id and not attempts:
            touch_buyer(user_id)
        return ctx

    def write_while_another_checkout_commits(*args: Any) -> Any:
        attempts.append(write(*args))
        if len(attempts) == 1:  # between our number and our commit, another checkout takes the next one
            concurrent.append(checkout(fresh_api, other.token, {"plan_id": BASIC}))
        return attempts[-1]

    monkeypatch.setattr(service, "_load", load_then_the_buyer_changes)
    monkeypatch.setattr(service, "_write", write_while_another_checkout_commits)
    body = {"plan_id": PRO, "token_bundle_ids": [TOKENS_100], "add_on_ids": [EXTRA_STORAGE]}
    answer = checkout(fresh_api, token, body)

    assert [c["invoice"]["invoice_number"] for c in concurrent] == [number(start + 2)]
    lost, won = [a for a in attempts if a["invoice"]["user_id"] == user_id]
    assert (lost["invoice"]["invoice_number"], won["invoice"]["invoice_number"]) == (number(start + 1),) * 2
    assert won == answer and lost["invoice"]["id"] != won["invoice"]["id"]
    assert sequence_value() == start + 2  # one number each: the retry took none
    # the refused attempt left nothing: no orphan invoice, subscription, purchase or add-on, no events
    assert stored_of(user_id) == ids_in(answer)
    assert set(ids_in(lost)["subscriptions"]).isdisjoint(stored_of(user_id)["subscriptions"])
    missing = fresh_api.get(f"/api/v1/user/invoices/{lost['invoice']['id']}", token=token)
    assert (missing.status, missing.json) == (404, {"error": "Invoice not found"})
    created = [e for e in outbox_events("invoice.created") if e["data"]["user_id"] == user_id]
    assert [e["data"]["invoice_id"] for e in created] == [answer["invoice"]["id"]]
    assert [
        e["data"]["subscription_id"] for e in outbox_events("subscription.created") if e["data"]["user_id"] == user_id
    ] == [answer["subscription"]["id"]]
    assert answer["trial_applied"] is True
    assert guard_of(start + 1).owner_id == answer["invoice"]["id"]
    assert guard_of(start + 2).owner_id == concurrent[0]["invoice"]["id"]


def test_a_checkout_refused_at_every_commit_writes_nothing_and_voids_the_one_number_it_took(
    fresh_api, monkeypatch, manual_clock
):
    """The buyer changes under every attempt: the checkout gives up with 409 after its retries, having written
    nothing. All its attempts used one number, which is now a void record saying why; the next checkout takes the
    number after it, so the series has no gap."""
    import chalicelib.checkout.service as service

    buyer = register_buyer(fresh_api, "checkout-state")
    token, user_id = buyer.token, buyer.user_id
    start, events = sequence_value(), outbox_size()
    numbers: list[str] = []
    load, write = service._load, service._write

    def load_then_the_buyer_changes(user: str) -> Any:
        ctx = load(user)
        touch_buyer(user)
        return ctx

    def recording_write(*args: Any) -> Any:
        answer = write(*args)
        numbers.append(answer["invoice"]["invoice_number"])
        return answer

    monkeypatch.setattr(service, "_load", load_then_the_buyer_changes)
    monkeypatch.setattr(service, "_write", recording_write)
    answer = fresh_api.post(CHECKOUT, {"plan_id": PRO, "token_bundle_ids": [TOKENS_100]}, token=token)
    assert (answer.status, answer.json) == (409, {"error": "Concurrent modification, please retry"})
    assert numbers == [number(start + 1)] * service.ATTEMPTS
    assert stored_of(user_id) == NOTHING
    assert outbox_size() == events
    assert sequence_value() == start + 1
    void = guard_of(start + 1)
    assert (void.owner_id, void.reason) == ("VOID", "Conflict: Concurrent modification, please retry")
    assert void.voided_at == clock.now()

    monkeypatch.setattr(service, "_load", load)
    body = checkout(fresh_api, token, {"plan_id": PRO})
    assert body["invoice"]["invoice_number"] == number(start + 2)
    assert body["trial_applied"] is True  # the refused attempts did not use the trial


def test_a_number_guarded_by_someone_else_is_skipped(fresh_api):
    """A guard already holds the next number (a void record housekeeping wrote while a checkout stalled): the
    checkout's transaction is refused on it, and its retry takes the number after it. Nothing is voided twice."""
    buyer = register_buyer(fresh_api, "checkout-state")
    token, user_id = buyer.token, buyer.user_id
    start = sequence_value()
    NumberGuardItem(*NumberGuardItem.key(number(start + 1)), owner_id="VOID", reason="by housekeeping").save()

    body = checkout(fresh_api, token, {"plan_id": PRO, "token_bundle_ids": [TOKENS_100]})
    assert body["invoice"]["invoice_number"] == number(start + 2)
    assert stored_of(user_id) == ids_in(body)
    assert (guard_of(start + 1).owner_id, guard_of(start + 1).reason) == ("VOID", "by housekeeping")
    assert guard_of(start + 2).owner_id == body["invoice"]["id"]
    assert body["trial_applied"] is True


def test_an_outbox_item_of_a_refused_transaction_is_never_written(fresh_api):
    token = register_buyer(fresh_api, "checkout-state").token
    before = {item.pk for item in OutboxItem.scan() if isinstance(item, OutboxItem)}
    assert fresh_api.post(CHECKOUT, {"plan_id": BASIC, "payment_method_code": "nope"}, token=token).status == 400
    assert {item.pk for item in OutboxItem.scan() if isinstance(item, OutboxItem)} == before


# --- concurrency (§4.1, README §1.10) -----------------------------------------------------------------------------


def test_concurrent_checkouts_get_distinct_consecutive_numbers(fresh_api, atomic_dynamodb):
    tokens = [register_buyer(fresh_api, "checkout-state").token for _ in range(4)]
    start = sequence_value()
    answers = at_once(4, lambda i: fresh_api.post(CHECKOUT, {"plan_id": BASIC}, token=tokens[i]))
    assert [a.status for a in answers] == [201] * 4
    numbers = sorted(a.json["invoice"]["invoice_number"] for a in answers)
    assert numbers == [number(start + n) for n in range(1, 5)]
    assert sequence_value() == start + 4


def test_concurrent_checkouts_of_one_user_are_all_written(fresh_api, atomic_dynamodb):
    buyer = register_buyer(fresh_api, "checkout-state")
    token, user_id = buyer.token, buyer.user_id
    answers = at_once(3, lambda i: fresh_api.post(CHECKOUT, {"token_bundle_ids": [TOKENS_100]}, token=token))
    assert [a.status for a in answers] == [201] * 3
    assert len(stored_of(user_id)["invoices"]) == 3
    assert len({a.json["invoice"]["invoice_number"] for a in answers}) == 3


def test_concurrent_duplicates_with_one_key_run_once(fresh_api, atomic_dynamodb):
    buyer = register_buyer(fresh_api, "checkout-state")
    token, user_id = buyer.token, buyer.user_id
    headers = {"Idempotency-Key": "concurrent-key"}
    answers = at_once(4, lambda i: fresh_api.post(CHECKOUT, {"plan_id": BASIC}, token=token, headers=headers))
    executed = [a for a in answers if a.status == 201 and "idempotent-replayed" not in a.headers]
    assert len(executed) == 1
    for other in answers:
        if other is executed[0]:
            continue
        if other.status == 409:
            assert other.json == {"error": "A request with this Idempotency-Key is in progress"}
        else:
            assert (other.status, other.headers["idempotent-replayed"], other.body) == (201, "true", executed[0].body)
    assert stored_of(user_id) == ids_in(executed[0].json)


def test_concurrent_trial_checkouts_grant_one_trial(fresh_api, atomic_dynamodb):
    token = register_buyer(fresh_api, "checkout-state").token
    answers = at_once(3, lambda i: fresh_api.post(CHECKOUT, {"plan_id": PRO}, token=token))
    assert [a.status for a in answers] == [201] * 3
    assert sorted(a.json["trial_applied"] for a in answers) == [False, False, True]
    assert sorted(a.json["subscription"]["status"] for a in answers) == ["PENDING", "PENDING", "TRIALING"]
