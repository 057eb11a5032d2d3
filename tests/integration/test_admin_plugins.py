"""Admin plugins and frontend manifests (admin.md §15): states, dependency rules, schema-checked configurations with
write-only secrets, events, and the manifests of the frontend apps."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.catalog.models import PluginItem
from chalicelib.plugins.registry import PLUGINS
from tests.integration.buyers import german_buyer
from tests.integration.conftest import ADMIN, Api, outbox_events

OBSERVER = ("observer@example.com", "ObserverPass123@")
PLUGINS_PATH = "/api/v1/admin/plugins"
MASK = "********"


@pytest.fixture
def admin(api: Api) -> str:
    return api.token(*ADMIN)


def _stored_config(name: str) -> dict[str, Any]:
    return dict(PluginItem.get("REF", f"PLUGIN#{name}", consistent_read=True).config or {})


def test_the_list_names_every_plugin_with_its_state(api: Api, admin: str) -> None:
    listed = {p["name"]: p for p in api.get(PLUGINS_PATH, token=admin).json["plugins"]}
    assert set(listed) == set(PLUGINS)
    assert listed["subscription"]["dependencies"] == ["email"]
    assert (listed["email"]["status"], listed["yookassa"]["status"]) == ("active", "inactive")
    assert (listed["stripe"]["hasConfig"], listed["sandbox"]["hasConfig"]) == (True, False)
    assert set(listed["booking"]) == {"name", "version", "author", "description", "status", "dependencies", "hasConfig"}


def test_the_detail_has_the_schema_form_and_saved_configuration(api: Api, admin: str) -> None:
    detail = api.get(f"{PLUGINS_PATH}/subscription", token=admin).json
    schema = detail["configSchema"]
    assert schema["additionalProperties"] is False
    assert schema["properties"]["max_subscriptions_per_user"]["default"] == 10
    assert detail["savedConfig"]["dunning_retry_days"] == [1, 3, 5, 7]
    assert [f["key"] for f in detail["adminConfig"]["fields"]] == list(schema["properties"])
    stripe = api.get(f"{PLUGINS_PATH}/stripe", token=admin).json
    assert stripe["configSchema"]["properties"]["live_secret_key"]["writeOnly"] is True
    assert stripe["savedConfig"]["live_secret_key"] is None


@pytest.mark.parametrize(
    ("method", "suffix"), [("GET", ""), ("PUT", "/config"), ("POST", "/enable"), ("POST", "/disable")]
)
def test_an_unknown_plugin_is_404(api: Api, admin: str, method: str, suffix: str) -> None:
    answer = api.request(method, f"{PLUGINS_PATH}/nope{suffix}", json_body={}, token=admin)
    assert (answer.status, answer.json) == (404, {"error": "Plugin 'nope' not found"})


def test_secrets_are_write_only_and_the_mask_keeps_them(fresh_api: Api) -> None:
    api, admin = fresh_api, fresh_api.token(*ADMIN)
    path = f"{PLUGINS_PATH}/stripe/config"
    saved = api.put(path, {"test_secret_key": "sk_test_123", "test_publishable_key": "pk_test_1"}, token=admin)
    assert saved.status == 200 and saved.json["message"] == "Configuration saved"
    assert saved.json["config"]["test_secret_key"] == MASK
    assert saved.json["config"]["test_publishable_key"] == "pk_test_1"
    assert "sk_test_123" not in repr(api.get(f"{PLUGINS_PATH}/stripe", token=admin).json)
    assert api.get(f"{PLUGINS_PATH}/stripe", token=admin).json["savedConfig"]["test_secret_key"] == MASK

    again = api.put(path, {"test_secret_key": MASK, "sandbox": False}, token=admin)
    assert again.status == 200
    assert _stored_config("stripe")["test_secret_key"] == "sk_test_123"
    assert _stored_config("stripe")["sandbox"] is False
    api.put(path, {"test_secret_key": "sk_test_456"}, token=admin)
    assert _stored_config("stripe")["test_secret_key"] == "sk_test_456"


@pytest.mark.parametrize(
    ("name", "body", "error"),
    [
        ("subscription", {"not_a_key": 1}, "Unknown config key: not_a_key"),
        ("subscription", {"max_subscriptions_per_user": 0}, "Invalid config value for max_subscriptions_per_user"),
        ("subscription", {"allow_downgrade": "yes"}, "Invalid config value for allow_downgrade"),
        ("subscription", {"dunning_retry_days": [1, "x"]}, "Invalid config value for dunning_retry_days"),
        ("booking", {"enable_recurring_bookings": True}, "Invalid config value for enable_recurring_bookings"),
        ("booking", {"capture_mode": "later"}, "Invalid config value for capture_mode"),
        ("email", {"from_address": "nobody"}, "Invalid config value for from_address"),
        ("webhooks", {"timeout_seconds": 1.5}, "Invalid config value for timeout_seconds"),
        ("sandbox", {"anything": True}, "Unknown config key: anything"),
    ],
)
def test_a_configuration_is_checked_against_the_schema(
    api: Api, admin: str, name: str, body: dict[str, Any], error: str
) -> None:
    answer = api.put(f"{PLUGINS_PATH}/{name}/config", body, token=admin)
    assert (answer.status, answer.json) == (400, {"error": error})


def test_a_valid_configuration_is_saved_and_shown(fresh_api: Api) -> None:
    api, admin = fresh_api, fresh_api.token(*ADMIN)
    answer = api.put(f"{PLUGINS_PATH}/booking/config", {"hold_minutes": 20, "capture_mode": "manual"}, token=admin)
    assert (answer.json["config"]["hold_minutes"], answer.json["config"]["capture_mode"]) == (20, "manual")
    assert answer.json["config"]["invoice_prefix"] == "BK"
    saved = api.get(f"{PLUGINS_PATH}/booking", token=admin).json["savedConfig"]
    assert saved == answer.json["config"]


def test_dependencies_are_enforced_both_ways_and_announced(fresh_api: Api) -> None:
    api, admin = fresh_api, fresh_api.token(*ADMIN)
    refused = api.post(f"{PLUGINS_PATH}/email/disable", token=admin)
    assert (refused.status, refused.json) == (400, {"error": "Plugin 'booking' depends on 'email'"})
    for name in ("booking", "subscription"):
        disabled = api.post(f"{PLUGINS_PATH}/{name}/disable", token=admin)
        assert disabled.json == {"message": "Plugin disabled", "status": "disabled"}
    assert api.post(f"{PLUGINS_PATH}/email/disable", token=admin).status == 200
    blocked = api.post(f"{PLUGINS_PATH}/booking/enable", token=admin)
    assert (blocked.status, blocked.json) == (400, {"error": "Plugin 'booking' requires 'email' to be enabled"})
    assert api.get("/api/v1/user/subscriptions", token=german_buyer(api, "plugin-off").token).json == {
        "error": "Plugin not enabled"
    }

    assert api.post(f"{PLUGINS_PATH}/email/enable", token=admin).json == {
        "message": "Plugin enabled",
        "status": "enabled",
    }
    assert api.post(f"{PLUGINS_PATH}/email/enable", token=admin).status == 200  # already enabled: no change
    assert api.post(f"{PLUGINS_PATH}/subscription/enable", token=admin).status == 200
    assert [e["data"] for e in outbox_events("plugin.disabled")] == [
        {"name": "booking"},
        {"name": "subscription"},
        {"name": "email"},
    ]
    assert [e["data"] for e in outbox_events("plugin.enabled")] == [{"name": "email"}, {"name": "subscription"}]
    statuses = {p["name"]: p["status"] for p in api.get(PLUGINS_PATH, token=admin).json["plugins"]}
    assert (statuses["email"], statuses["subscription"], statuses["booking"]) == ("active", "active", "inactive")


def test_the_observer_reads_plugins_and_changes_nothing(api: Api) -> None:
    observer = api.token(*OBSERVER)
    assert api.get(PLUGINS_PATH, token=observer).status == 200
    assert api.get(f"{PLUGINS_PATH}/email", token=observer).status == 200
    for method, path in [
        ("PUT", f"{PLUGINS_PATH}/email/config"),
        ("PUT", f"{PLUGINS_PATH}/stripe/config"),
        ("POST", f"{PLUGINS_PATH}/email/enable"),
        ("POST", f"{PLUGINS_PATH}/email/disable"),
        ("GET", "/api/v1/admin/frontend-plugins/user"),
        ("PUT", "/api/v1/admin/frontend-plugins/user"),
        ("POST", "/api/v1/admin/frontend-plugins/user/checkout/enable"),
    ]:
        answer = api.request(method, path, json_body={}, token=observer)
        assert (answer.status, answer.json) == (403, {"error": "Permission denied", "required": "settings.system"})
    customer = german_buyer(api, "no-plugins").token
    assert api.get(PLUGINS_PATH, token=customer).json == {"error": "Admin access required"}


# --- frontend manifests ------------------------------------------------------------------------------------------

MANIFESTS = "/api/v1/admin/frontend-plugins"


def test_a_manifest_is_read_replaced_and_toggled(fresh_api: Api) -> None:
    api, admin = fresh_api, fresh_api.token(*ADMIN)
    seeded = api.get(f"{MANIFESTS}/user", token=admin).json
    assert seeded["plugins"]["checkout"]["enabled"] is True
    off = api.post(f"{MANIFESTS}/user/checkout/disable", token=admin)
    assert off.json == {
        "app": "user",
        "plugin": "checkout",
        "enabled": False,
        "updated_path": "settings://frontend-plugins/user",
    }
    assert api.get(f"{MANIFESTS}/user", token=admin).json["plugins"]["checkout"] == {"enabled": False}
    manifest = {"plugins": {"reports": {"enabled": True, "version": "1.2.0", "weight": 1.5}}}
    assert api.put(f"{MANIFESTS}/backend", manifest, token=admin).json == manifest
    assert api.get(f"{MANIFESTS}/backend", token=admin).json == manifest
    assert api.post(f"{MANIFESTS}/backend/reports/disable", token=admin).json["enabled"] is False


def test_manifest_refusals(api: Api, admin: str) -> None:
    unknown = api.get(f"{MANIFESTS}/mobile", token=admin)
    assert (unknown.status, unknown.json) == (
        404,
        {"error": "Unknown app 'mobile'", "configured_apps": ["admin", "user", "backend"]},
    )
    assert api.post(f"{MANIFESTS}/mobile/x/enable", token=admin).status == 404
    assert api.put(f"{MANIFESTS}/user", {"plugins": []}, token=admin).json == {
        "error": "Manifest must contain a plugins object"
    }
    missing = api.post(f"{MANIFESTS}/admin/nothing/enable", token=admin)
    assert (missing.status, missing.json) == (404, {"error": "Plugin 'nothing' not found in admin manifest"})


def test_a_plugins_own_configure_permission_suffices_for_its_config_only(fresh_api: Api) -> None:
    from chalicelib.users.models import UserItem, user_key
    from tests.integration.buyers import change, relogin

    api, admin = fresh_api, fresh_api.token(*ADMIN)
    body = {"name": "Payments", "permissions": ["payments.configure"]}
    level = api.post("/api/v1/admin/access/levels", body, token=admin).json["level"]
    buyer = german_buyer(api, "payments-admin")
    change(UserItem, *user_key(buyer.user_id), role="ADMIN")  # an admin without roles, as the users API makes one
    assigned = api.post(f"/api/v1/admin/access/users/{buyer.user_id}/roles", {"role_id": level["id"]}, token=admin)
    assert assigned.json["user"]["permissions"] == ["payments.configure"]
    token = relogin(api, buyer).token

    assert api.put(f"{PLUGINS_PATH}/stripe/config", {"sandbox": True}, token=token).status == 200
    refused = api.put(f"{PLUGINS_PATH}/subscription/config", {"allow_downgrade": False}, token=token)
    assert (refused.status, refused.json) == (403, {"error": "Permission denied", "required": "settings.system"})
    assert api.post(f"{PLUGINS_PATH}/stripe/disable", token=token).status == 403
