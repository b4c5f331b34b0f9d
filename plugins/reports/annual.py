"""The district's annual report on its performance management (全面实施预算绩效管理情况的说明).

Shaped like the bureau's report of 2021 (docs/reports.md): the key evaluation
catalogue, then the whole cycle — pre-assessment, targets, monitoring, evaluation,
disclosure — then the third-party agencies. Every figure comes from a stage plugin
through ``jixiao_report_figures`` and keeps the link to the list it counts; a section
whose plugin is disabled (or that has no figure) is left out and the report still
builds. The figures are counted under the reader's row scope.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from core.services.report_figures import ReportFigure
from plugins.reports.hookspecs import report_figures

#: the report's headings, in the order of the bureau's report: (section, heading, part)
#: where part is the numbered chapter it belongs to
HEADINGS = (
    ("catalogue", _l("Managing the departments' key evaluation catalogues"), 1),
    ("preassessment", _l("Budget decisions: pre-assessment"), 2),
    ("targets", _l("Budget preparation: performance targets"), 2),
    ("monitoring", _l("Budget execution: monitoring of targets and spending"), 2),
    ("evaluation", _l("Final accounts: self-evaluation, key evaluation and re-evaluation"), 2),
    ("disclosure", _l("Disclosure of targets and evaluation results"), 2),
    ("agencies", _l("Managing third-party agencies"), 3),
)
PARTS = {1: _l("The key evaluation catalogue"),
         2: _l("Performance management over the whole budget cycle"),
         3: _l("Further managing third-party agencies")}


@dataclass(frozen=True)
class Section:
    key: str
    heading: Any
    part: int
    figures: tuple[ReportFigure, ...]


@dataclass(frozen=True)
class AnnualReport:
    year: int
    sections: tuple[Section, ...]

    @property
    def figures(self) -> list[ReportFigure]:
        """Every figure in report order (the order of their notes)."""
        return [f for s in self.sections for f in s.figures]

    def parts(self) -> list[tuple[Any, list[Section]]]:
        """The numbered chapters that have sections, with their sections."""
        out: dict[int, list[Section]] = {}
        for section in self.sections:
            out.setdefault(section.part, []).append(section)
        return [(PARTS[n], sections) for n, sections in sorted(out.items())]


def annual_report(year: int) -> AnnualReport:
    """Every plugin's figures of ``year``, in the report's sections and order."""
    by_section: dict[str, list[ReportFigure]] = {}
    for figure in report_figures(year):
        by_section.setdefault(figure.section, []).append(figure)
    sections = tuple(
        Section(key, heading, part, tuple(sorted(by_section[key], key=lambda f: f.order)))
        for key, heading, part in HEADINGS if by_section.get(key))
    return AnnualReport(year, sections)
