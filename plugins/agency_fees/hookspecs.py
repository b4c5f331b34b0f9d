"""Hooks of the agency fees plugin (服务费用测算): fee calculation methods.

Declared through ``jixiao_add_hookspecs``; another plugin implements them with
``@hookimpl(optionalhook=True)`` so that it still starts when this plugin is off.
"""

from __future__ import annotations

import pluggy

from core.hookspecs import PROJECT
from core.plugins import hooks

hookspec = pluggy.HookspecMarker(PROJECT)


@hookspec(firstresult=True)
def jixiao_fee_method(method):
    """The fee calculator of a fee schedule's calculation ``method`` name, or None.

    Called by this plugin whenever it checks or applies a schedule
    whose rules name ``method``. Return a function ``(rules, inputs, explain=True)
    -> lines`` (``plugins.agency_fees.calc``: ``FeeRules``, ``QuoteInputs``, a list
    of ``FeeLine`` whose last line is the total, each rounded to the fen; with
    ``explain=False`` only the total line is needed) for a name you provide, else
    None. The built-in ``standard`` and ``sliding_scale`` methods answer with
    ``trylast``, so a bureau's plugin can replace them.
    """


def fee_method(name: str):
    """The fee calculator answering to ``name``, or None."""
    return hooks().declared("jixiao_fee_method")(method=name)
