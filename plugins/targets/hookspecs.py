"""Hooks of the targets plugin (绩效目标): extra checks of a target sheet.

Declared through ``jixiao_add_hookspecs``; another plugin implements them with
``@hookimpl(optionalhook=True)`` so that it still starts when this plugin is off.
"""

from __future__ import annotations

import pluggy

from core.hookspecs import PROJECT
from core.plugins import hooks

hookspec = pluggy.HookspecMarker(PROJECT)


@hookspec
def jixiao_target_checks(sheet):
    """Extra quality checks of a performance target sheet before it is submitted.

    Called by this plugin with the ``sheet`` (its ``indicators``, its
    ``budget_item`` and ``goal``), after the built-in checks. Returns a list of
    problems, each a message or a ``(field, message)`` pair (field "" for the
    whole sheet); every problem of every plugin is shown together and the sheet
    is not submitted while there is one. Return an empty list (or nothing) when
    the sheet is fine.
    """


def target_checks(sheet) -> list:
    """Every plugin's problems with ``sheet``, in registration order."""
    return [p for batch in hooks().declared("jixiao_target_checks")(sheet=sheet)
            for p in (batch or [])]
