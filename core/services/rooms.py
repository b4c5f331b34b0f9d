"""A plugin's glue hooks, from its rooms (models, admin, api, jobs, demo, widgets, tasks…).

Every stage plugin has the same rooms, and each setup hook of its ``__init__`` used to be
the same function again: import the room, call it. ``rooms`` writes those functions: a
plugin says where each hook goes and keeps only the hooks with logic of their own::

    globals().update(rooms(__name__, register_models="models", admin_views="admin:register",
                           api="api:blp", jobs="jobs:register"))

``"module"`` imports ``<package>.module`` (``register_models``); ``"module:name"`` calls
``name`` with the hook's arguments in the hookspec's order, except for ``api`` and
``blueprints``, where ``name`` is a blueprint registered on the ``api`` or ``app``. The
room is imported at the first call, as the hand-written hooks did.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from core import hookspecs
from core.plugins import hookimpl

_REGISTERS = frozenset({"api", "blueprints"})


def rooms(package: str, **targets: str) -> dict[str, Callable[..., Any]]:
    """``{"jixiao_<hook>": implementation}`` for each ``hook="module[:name]"``."""
    return {f"jixiao_{hook}": hookimpl(_implementation(package, hook, target))
            for hook, target in targets.items()}


def _implementation(package: str, hook: str, target: str) -> Callable[..., Any]:
    name = f"jixiao_{hook}"
    spec = getattr(hookspecs, name)
    params = spec.__code__.co_varnames[:spec.__code__.co_argcount]
    module_name, _sep, attr = target.partition(":")

    def implementation(*args: Any, **kwargs: Any) -> Any:
        args = args or tuple(kwargs[p] for p in params)  # as pluggy calls it, or by name
        module = importlib.import_module(f"{package}.{module_name}")
        if not attr:
            return module
        found = getattr(module, attr)
        if hook in _REGISTERS:
            args[0].register_blueprint(found)
            return None
        return found(*args)

    # pluggy reads the argument names of the function it unwraps (``__wrapped__``, as
    # functools.wraps sets it): the hookspec's, so it passes the hook's arguments in order
    implementation.__wrapped__ = spec  # type: ignore[attr-defined]
    implementation.__name__ = implementation.__qualname__ = name
    return implementation
