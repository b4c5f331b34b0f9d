"""The plugin manager: built-in plugins first, then the ``jixiao`` entry points.

``Hooks`` is the one way to call a hook: a thin typed wrapper over pluggy's
manager (tox's ``tox.plugin.manager`` is the model) with one method per hook of
``core/hookspecs.py``. Code reaches it with ``hooks()`` (the current app's) or
``hooks(app)``. A hook a plugin declares for itself (``jixiao_add_hookspecs``) is
called through ``Hooks.declared(name)`` by a typed function in that plugin. Only
``seed-demo`` calls ``jixiao_seed_demo``'s implementations one by one (``DEMO_AFTER``).
"""

from __future__ import annotations

import importlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pluggy
from flask import current_app

from core import hookspecs

ENTRY_POINT_GROUP = "jixiao"
EXTENSION = "jixiao_hooks"  # app.extensions key of an app's Hooks
hookimpl = pluggy.HookimplMarker(hookspecs.PROJECT)
log = logging.getLogger("jixiao.hooks")

#: Built-in plugins, registered by dotted name exactly like external ones.
BUILTIN_PLUGINS: dict[str, str] = {
    "system": "plugins.system",
    "targets": "plugins.targets",
    "agencies": "plugins.agencies",
    "preassessment": "plugins.preassessment",
    "monitoring": "plugins.monitoring",
    "evaluation": "plugins.evaluation",
    "catalogue": "plugins.catalogue",
    "disclosure": "plugins.disclosure",
    "agency_fees": "plugins.agency_fees",
    "agency_scoring": "plugins.agency_scoring",
    "reports": "plugins.reports",
}
#: Plugins that cannot be disabled: without them there is no app.
REQUIRED_PLUGINS = frozenset({"system"})


class PluginError(RuntimeError):
    """A plugin set-up the app refuses to start with (the message says why)."""


@dataclass
class PluginInfo:
    name: str
    source: str  # "builtin", "entrypoint:<distribution> <version>" or "registered"
    hooks: list[str] = field(default_factory=list)
    module: str = ""
    required: bool = False  # cannot be disabled (REQUIRED_PLUGINS)


def _flat(batches: list[Any]) -> list[Any]:
    return [x for batch in batches for x in (batch or [])]


class Hooks:
    """One app's plugins and a method per hook (keyword arguments, typed answers)."""

    def __init__(self, pm: pluggy.PluginManager, disabled: tuple[str, ...] = (),
                 sources: dict[str, str] | None = None):
        self.pm = pm
        self.disabled = disabled
        self.sources = sources or {}
        self._h = pm.hook

    # --- plugins -------------------------------------------------------------------
    def register(self, plugin: Any, name: str | None = None) -> None:
        """Register a plugin after start-up (tests' throw-away plugins)."""
        self.pm.register(plugin, name=name)
        self.sources.setdefault(self.pm.get_name(plugin), "registered")

    def unregister(self, plugin: Any = None, name: str | None = None) -> None:
        """Unregister a plugin object, or the plugin of that name."""
        self.pm.unregister(plugin, name=name)

    def describe(self) -> list[PluginInfo]:
        """What ``flask jixiao plugins`` and the plugins page show."""
        out = []
        for plugin in self.pm.get_plugins():
            name = self.pm.get_name(plugin) or repr(plugin)
            callers = sorted(h.name for h in (self.pm.get_hookcallers(plugin) or []))
            out.append(PluginInfo(name, self.sources.get(name, "registered"), callers,
                                  getattr(plugin, "__name__", type(plugin).__name__),
                                  name in REQUIRED_PLUGINS))
        return sorted(out, key=lambda p: (p.source != "builtin", p.name))

    def folders(self, name: str) -> list[str]:
        """Each registered plugin package's folder ``name`` (``templates``, ``translations``)
        that exists, in registration order: how a plugin's templates and catalogs are found."""
        found = []
        for plugin in self.pm.get_plugins():
            module_file = getattr(plugin, "__file__", None)
            if module_file and (Path(module_file).parent / name).is_dir():
                found.append(str(Path(module_file).parent / name))
        return found

    def declared(self, name: str) -> Any:
        """The caller of a hook a plugin declared itself (``jixiao_add_hookspecs``)."""
        return getattr(self._h, name)

    # --- setup ---------------------------------------------------------------------
    def config(self, config: Any) -> None:
        self._h.jixiao_config(config=config)

    def register_models(self) -> None:
        self._h.jixiao_register_models()

    def permissions(self) -> list[Any]:
        return _flat(self._h.jixiao_permissions())

    def admin_views(self, admin: Any, db: Any) -> None:
        self._h.jixiao_admin_views(admin=admin, db=db)

    def blueprints(self, app: Any) -> None:
        self._h.jixiao_blueprints(app=app)

    def api(self, api: Any) -> None:
        self._h.jixiao_api(api=api)

    def cli(self, group: Any) -> None:
        self._h.jixiao_cli(group=group)

    def jobs(self, scheduler: Any) -> None:
        self._h.jixiao_jobs(scheduler=scheduler)

    def stages(self) -> dict[str, Any]:
        """Every plugin's ``Stage`` by key, in stage order."""
        found = [s for s in self._h.jixiao_stage() if s is not None]
        return {s.key: s for s in sorted(found, key=lambda s: s.order)}

    # --- contracts -----------------------------------------------------------------
    def principal_agency(self, user: Any) -> int | None:
        return self._h.jixiao_principal_agency(user=user)

    def principal_agency_column(self, user_id: Any) -> Any:
        return self._h.jixiao_principal_agency_column(user_id=user_id)

    def approved_targets(self, year: int | None = None, item_ids: list[int] | None = None) -> dict:
        """Approved targets (``ItemTargets``) by budget item id."""
        merged: dict = {}
        for part in self._h.jixiao_approved_targets(year=year, item_ids=item_ids):
            merged.update(part or {})
        return merged

    def approved_indicator_select(self, year: int) -> Any:
        """A SELECT of the approved indicators of ``year`` (``contracts.INDICATOR_COLUMNS``)."""
        return self._h.jixiao_approved_indicator_select(year=year)

    def engagements(self, ids: list[int] | None = None, year: int | None = None,
                    agency_id: int | None = None, closed: bool | None = None) -> list[Any]:
        return _flat(self._h.jixiao_engagements(ids=ids, year=year, agency_id=agency_id,
                                                closed=closed))

    def evaluation_results(self, year: int | None = None, item_ids: list[int] | None = None,
                           kinds: list[str] | None = None) -> list[Any]:
        return _flat(self._h.jixiao_evaluation_results(year=year, item_ids=item_ids,
                                                       kinds=kinds))

    def preassessment_conclusions(self, year: int | None = None,
                                  item_ids: list[int] | None = None) -> dict:
        merged: dict = {}
        for part in self._h.jixiao_preassessment_conclusions(year=year, item_ids=item_ids):
            merged.update(part or {})
        return merged

    # --- events --------------------------------------------------------------------
    def workflow_transition(self, obj: Any, old: Any, new: Any, user: Any, action: str,
                            comment: str, workflow: Any) -> None:
        self._h.jixiao_workflow_transition(obj=obj, old=old, new=new, user=user, action=action,
                                           comment=comment, workflow=workflow)

    def evaluation_finalized(self, evaluation: Any) -> None:
        self._h.jixiao_evaluation_finalized(evaluation=evaluation)

    def year_opened(self, previous: Any, year: Any) -> None:
        self._h.jixiao_year_opened(previous=previous, year=year)

    # --- extension points ----------------------------------------------------------
    def score_method(self, method: str) -> Any:
        return self._h.jixiao_score_method(method=method)

    def tasks(self, principal: Any, year: int) -> list[Any]:
        return _flat(self._h.jixiao_tasks(principal=principal, year=year))

    def item_panels(self, item: Any) -> list[Any]:
        return _flat(self._h.jixiao_item_panels(item=item))

    def dashboard_widgets(self, user: Any) -> list[Any]:
        found = _flat(self._h.jixiao_dashboard_widgets(user=user))
        return sorted(found, key=lambda w: (w.order, str(w.title)))


def hooks(app: Any = None) -> Hooks:
    """The Hooks of ``app`` (default: the current app)."""
    return (app or current_app).extensions[EXTENSION]


def make_manager(disabled: list[str] | tuple[str, ...] = (), load_entrypoints: bool = True,
                 builtins: dict[str, str] | None = None, trace: bool = False) -> Hooks:
    """Build the plugins of one app; a name in ``disabled`` is blocked before loading."""
    refused = sorted(set(disabled) & REQUIRED_PLUGINS)
    if refused:
        raise PluginError(f"The plugin {', '.join(refused)!s} cannot be disabled: it holds the "
                          "users, org units, years and budget items every other plugin uses. "
                          "Remove it from JIXIAO_DISABLED_PLUGINS.")
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    for name in disabled:
        pm.set_blocked(name)
    sources: dict[str, str] = {}
    for name, dotted in (BUILTIN_PLUGINS if builtins is None else builtins).items():
        if pm.is_blocked(name):
            continue
        pm.register(importlib.import_module(dotted), name=name)
        sources[name] = "builtin"
    if load_entrypoints:
        before = set(pm.get_plugins())
        pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
        for plugin, dist in pm.list_plugin_distinfo():
            if plugin not in before:
                sources[pm.get_name(plugin)] = f"entrypoint:{dist.project_name} {dist.version}"
    pm.hook.jixiao_add_hookspecs(pm=pm)
    pm.check_pending()  # a misspelt hook name fails here, naming it and its plugin
    if trace:
        _trace(pm)
    return Hooks(pm, tuple(sorted(set(disabled))), sources)


def _trace(pm: pluggy.PluginManager) -> None:
    """Log every hook call: its name, the plugins that answered and the time taken."""
    started: list[float] = []

    def before(hook_name: str, impls: list[Any], kwargs: dict[str, Any]) -> None:
        started.append(time.perf_counter())

    def after(outcome: Any, hook_name: str, impls: list[Any], kwargs: dict[str, Any]) -> None:
        ms = (time.perf_counter() - started.pop()) * 1000
        names = ", ".join(i.plugin_name for i in impls) or "-"
        log.info("hook %s answered by [%s] in %.2f ms", hook_name, names, ms)

    pm.add_hookcall_monitoring(before, after)
