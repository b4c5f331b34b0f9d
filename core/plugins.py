"""The plugin manager: built-in plugins first, then the ``jixiao`` entry points."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

import pluggy

from core import hookspecs

ENTRY_POINT_GROUP = "jixiao"
hookimpl = pluggy.HookimplMarker(hookspecs.PROJECT)

#: Built-in plugins, registered by dotted name exactly like external ones.
#: The core's own contributions come first; stage plugins follow.
BUILTIN_PLUGINS: dict[str, str] = {
    "core": "core.builtin",
    "targets": "plugins.targets",
    "agencies": "plugins.agencies",
    "preassessment": "plugins.preassessment",
    "monitoring": "plugins.monitoring",
    "evaluation": "plugins.evaluation",
    "catalogue": "plugins.catalogue",
    "disclosure": "plugins.disclosure",
    "agency_fees": "plugins.agency_fees",
    "agency_scoring": "plugins.agency_scoring",
}
#: Plugins that cannot be disabled: without them there is no app.
REQUIRED_PLUGINS = frozenset({"core"})


@dataclass
class PluginInfo:
    name: str
    source: str  # "builtin" or "entrypoint:<distribution> <version>"
    hooks: list[str] = field(default_factory=list)
    module: str = ""


def make_manager(disabled: list[str] | tuple[str, ...] = (), load_entrypoints: bool = True,
                 builtins: dict[str, str] | None = None) -> pluggy.PluginManager:
    """Build a plugin manager; a name in ``disabled`` is blocked before loading."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    for name in disabled:
        if name not in REQUIRED_PLUGINS:
            pm.set_blocked(name)
    pm._jixiao_disabled = tuple(sorted(  # type: ignore[attr-defined]
        {n for n in disabled if n not in REQUIRED_PLUGINS}))
    pm._jixiao_sources = {}  # type: ignore[attr-defined]
    for name, dotted in (BUILTIN_PLUGINS if builtins is None else builtins).items():
        if pm.is_blocked(name):
            continue
        pm.register(importlib.import_module(dotted), name=name)
        pm._jixiao_sources[name] = "builtin"  # type: ignore[attr-defined]
    if load_entrypoints:
        before = set(pm.get_plugins())
        pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
        for plugin, dist in pm.list_plugin_distinfo():
            if plugin in before:
                continue
            name = pm.get_name(plugin)
            pm._jixiao_sources[name] = (  # type: ignore[attr-defined]
                f"entrypoint:{dist.project_name} {dist.version}")
    pm.check_pending()
    return pm


def describe(pm: pluggy.PluginManager) -> list[PluginInfo]:
    """What ``flask jixiao plugins`` and the plugins page show."""
    out = []
    sources: dict[str, str] = getattr(pm, "_jixiao_sources", {})
    for plugin in pm.get_plugins():
        name = pm.get_name(plugin) or repr(plugin)
        hooks = sorted(h.name for h in (pm.get_hookcallers(plugin) or []))
        out.append(PluginInfo(name=name, source=sources.get(name, "registered"), hooks=hooks,
                              module=getattr(plugin, "__name__", type(plugin).__name__)))
    return sorted(out, key=lambda p: (p.source != "builtin", p.name))


def disabled(pm: pluggy.PluginManager) -> tuple[str, ...]:
    """The plugin names switched off by ``DISABLED_PLUGINS`` (required ones never are)."""
    return getattr(pm, "_jixiao_disabled", ())


def call(app_or_pm: Any, hook: str, **kwargs: Any) -> Any:
    """Call a hook by name with keyword arguments (the only way core code calls hooks)."""
    pm = app_or_pm.extensions["jixiao_plugins"] if hasattr(app_or_pm, "extensions") else app_or_pm
    return getattr(pm.hook, hook)(**kwargs)
