"""Plugins and frontend manifests of admin.md §15: states, configurations, dependency rules.

A plugin's state and configuration are its catalog record (`PLUGIN#<name>`), so every instance sees a change with
its next request (`chalicelib.plugins.registry.is_enabled`). Changes go through `settings_writes.change`, so an
enable and a disable of plugins that depend on each other cannot both pass their checks at once.
"""

from __future__ import annotations

from typing import Any

from chalicelib.admin_settings import plugin_config
from chalicelib.admin_settings.schemas import plain_json
from chalicelib.catalog import repository
from chalicelib.catalog.models import ManifestItem, PluginItem
from chalicelib.catalog.repository import Reference
from chalicelib.catalog.settings_writes import CatalogChange, change
from chalicelib.core.errors import BadRequest, NotFound
from chalicelib.events.catalog import PluginDisabled, PluginEnabled
from chalicelib.events.envelope import Actor
from chalicelib.plugins.registry import PLUGINS, PluginSpec

APPS = ("admin", "user", "backend")


def _spec(name: str) -> PluginSpec:
    spec = PLUGINS.get(name)
    if spec is None:
        raise NotFound(f"Plugin '{name}' not found")
    return spec


def _record(ref: Reference, name: str) -> PluginItem | None:
    return next((p for p in ref.plugins if p.name == name), None)


def _enabled(ref: Reference) -> set[str]:
    return {p.name for p in ref.plugins if p.enabled}


def _summary(spec: PluginSpec, enabled: bool) -> dict[str, Any]:
    return {
        "name": spec.name,
        "version": spec.version,
        "author": spec.author,
        "description": spec.description,
        "status": "active" if enabled else "inactive",
        "dependencies": list(spec.dependencies),
    }


def list_plugins() -> dict[str, Any]:
    enabled = _enabled(repository.reference())
    return {
        "plugins": [
            {**_summary(spec, name in enabled), "hasConfig": bool(plugin_config.PROPERTIES[name])}
            for name, spec in sorted(PLUGINS.items())
        ]
    }


def get_plugin(name: str) -> dict[str, Any]:
    spec = _spec(name)
    ref = repository.reference()
    record = _record(ref, name)
    return {
        **_summary(spec, name in _enabled(ref)),
        "configSchema": plugin_config.schema(name),
        "adminConfig": plugin_config.admin_form(name),
        "savedConfig": plugin_config.masked(name, dict(record.config or {}) if record else {}),
    }


def configure_permission(name: str) -> str | None:
    """The plugin's own key that may change its configuration besides `settings.system`."""
    return plugin_config.CONFIGURE_PERMISSION.get(name)


def save_config(actor: Actor, name: str, sent: dict[str, Any]) -> dict[str, Any]:
    _spec(name)

    def apply(ch: CatalogChange) -> dict[str, Any]:
        record = _record(ch.ref, name)
        stored = dict(record.config or {}) if record else {}
        try:
            config = plugin_config.merged(name, stored, plain_json(sent))
        except ValueError as refused:
            raise BadRequest(str(refused)) from None
        if record is None:
            ch.new(PluginItem, name, name=name, enabled=False, config=config)
        elif config != stored:
            ch.save(record, config=config)
        return {"message": "Configuration saved", "config": plugin_config.masked(name, config)}

    return change(actor, apply)


def _set_enabled(ch: CatalogChange, name: str, enabled: bool) -> None:
    record = _record(ch.ref, name)
    if record is None:
        ch.new(PluginItem, name, name=name, enabled=enabled, config={})
    else:
        ch.save(record, enabled=enabled)
    ch.emit(PluginEnabled(name=name) if enabled else PluginDisabled(name=name))


def enable_plugin(actor: Actor, name: str) -> dict[str, Any]:
    spec = _spec(name)

    def apply(ch: CatalogChange) -> dict[str, Any]:
        enabled = _enabled(ch.ref)
        missing = next((dep for dep in spec.dependencies if dep not in enabled), None)
        if missing is not None:
            raise BadRequest(f"Plugin '{name}' requires '{missing}' to be enabled")
        if name not in enabled:
            _set_enabled(ch, name, True)
        return {"message": "Plugin enabled", "status": "enabled"}

    return change(actor, apply)


def disable_plugin(actor: Actor, name: str) -> dict[str, Any]:
    _spec(name)

    def apply(ch: CatalogChange) -> dict[str, Any]:
        enabled = _enabled(ch.ref)
        dependent = next((o for o in sorted(enabled) if name in PLUGINS[o].dependencies), None)
        if dependent is not None:
            raise BadRequest(f"Plugin '{dependent}' depends on '{name}'")
        if name in enabled:
            _set_enabled(ch, name, False)
        return {"message": "Plugin disabled", "status": "disabled"}

    return change(actor, apply)


# --- frontend manifests ------------------------------------------------------------------------------------------


def _app(app: str) -> str:
    if app not in APPS:
        raise NotFound(f"Unknown app '{app}'", configured_apps=list(APPS))
    return app


def _manifest(ref: Reference, app: str) -> ManifestItem | None:
    return next((m for m in ref.manifests if m.app == app), None)


def get_manifest(app: str) -> dict[str, Any]:
    found = _manifest(repository.reference(), _app(app))
    return dict(found.manifest) if found and found.manifest else {"plugins": {}}


def _store_manifest(ch: CatalogChange, app: str, manifest: dict[str, Any]) -> None:
    found = _manifest(ch.ref, app)
    if found is None:
        ch.new(ManifestItem, app, app=app, manifest=manifest)
    else:
        ch.save(found, manifest=manifest)


def put_manifest(actor: Actor, app: str, manifest: dict[str, Any]) -> dict[str, Any]:
    _app(app)
    if not isinstance(manifest.get("plugins"), dict):
        raise BadRequest("Manifest must contain a plugins object")

    stored = dict(plain_json(manifest))

    def apply(ch: CatalogChange) -> dict[str, Any]:
        _store_manifest(ch, app, stored)
        return stored

    return change(actor, apply)


def toggle_manifest_plugin(actor: Actor, app: str, plugin: str, enabled: bool) -> dict[str, Any]:
    _app(app)

    def apply(ch: CatalogChange) -> dict[str, Any]:
        found = _manifest(ch.ref, app)
        manifest = dict(found.manifest or {}) if found else {"plugins": {}}
        plugins = dict(manifest.get("plugins") or {})
        if plugin not in plugins:
            raise NotFound(f"Plugin '{plugin}' not found in {app} manifest")
        plugins[plugin] = {**plugins[plugin], "enabled": enabled}
        _store_manifest(ch, app, {**manifest, "plugins": plugins})
        return {"app": app, "plugin": plugin, "enabled": enabled, "updated_path": f"settings://frontend-plugins/{app}"}

    return change(actor, apply)
