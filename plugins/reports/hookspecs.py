"""The reports plugin's own hook: every stage plugin's figures for the bureau's reports."""

from __future__ import annotations

from typing import Any

import pluggy

from core.hookspecs import PROJECT
from core.plugins import hooks

hookspec = pluggy.HookspecMarker(PROJECT)


@hookspec
def jixiao_report_figures(year):
    """The plugin's figures of fiscal ``year`` for the bureau's reports.

    Returns a list of ``core.services.report_figures.ReportFigure``: for each
    thing the annual performance management report states (pre-assessments,
    target and monitoring coverage, lights, evaluations, catalogue coverage,
    disclosure, agencies), its section, a label, the count (and the whole it
    covers), the amount in yuan where one applies, and a link to the list that
    shows what is counted. Count with ORM queries so the reader's row scope
    applies. Declared by the reports plugin: implement it with
    ``@hookimpl(optionalhook=True)``; a disabled plugin's figures simply vanish.
    """


def report_figures(year: int) -> list[Any]:
    """Every plugin's figures of ``year`` (empty while no plugin answers)."""
    return [figure for batch in hooks().declared("jixiao_report_figures")(year=year)
            for figure in (batch or [])]
