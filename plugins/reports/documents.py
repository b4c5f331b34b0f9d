"""The three documents as blocks (``blocks.py``): the annual report and the two
packages for the people's congress. Every figure of the annual report carries a note
that names what it counts and the list that shows it."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from core.extensions import db
from core.models import OrgKind, OrgUnit
from core.services.scoring import grade_label
from core.web.admin.display import org_unit_name
from plugins.reports.annual import AnnualReport
from plugins.reports.blocks import Block, Cell, cells, percent, yuan
from plugins.reports.packages import AccountsPackage, BudgetPackage

NUMERALS = "一二三四五六七八九十"
#: a target's comparator as the package prints it before the value
SIGNS = {"ge": "≥", "le": "≤", "eq": "=", "range": "", "qualitative": ""}
#: contract grade letters (core.contracts.EvaluationResult.grade) → grade codes
GRADES = {"A": "excellent", "B": "good", "C": "fair", "D": "poor"}


def _bureau() -> str:
    name = db.session.scalar(select(OrgUnit.name).where(
        OrgUnit.kind == OrgKind.FINANCE_BUREAU).order_by(OrgUnit.id).limit(1))
    return name or ""


def _header(title: str) -> list[Block]:
    sub = _("%(bureau)s, from the data of the performance management system on %(date)s",
            bureau=_bureau(), date=date.today().isoformat())
    return [Block("title", title), Block("subtitle", sub)]


def annual_blocks(report: AnnualReport) -> list[Block]:
    out = _header(_("Report on the full implementation of budget performance management "
                    "in %(year)s", year=report.year))
    if not report.sections:
        out.append(Block("paragraph", _("No stage has figures for this year.")))
        return out
    notes = []
    for n, (part, sections) in enumerate(report.parts()):
        out.append(Block("heading", f"{NUMERALS[n]}、{part}", level=1))
        for m, section in enumerate(sections, start=1):
            if len(sections) > 1:  # a chapter of one section is headed by the chapter
                out.append(Block("heading", f"{m}. {section.heading}", level=2))
            rows = []
            for figure in section.figures:
                notes.append((len(notes) + 1, str(figure.label), figure.link))
                coverage = "" if figure.of is None else _(
                    "%(count)s of %(whole)s (%(share)s)", count=figure.count, whole=figure.of,
                    share=percent(figure.share))
                rows.append(cells(Cell(str(figure.label), figure.link, len(notes)),
                                  figure.count, coverage, yuan(figure.amount)))
            out.append(Block("table", headers=(_("What is counted"), _("Number counted"),
                                               _("Coverage"), _("Amount")), rows=tuple(rows)))
    out.append(Block("notes", _("Notes: the list each figure counts"), notes=tuple(notes)))
    return out


def _target_text(indicator: Any) -> str:
    return f"{SIGNS.get(indicator.comparator, '')}{indicator.target_value}{indicator.unit or ''}"


def budget_blocks(package: BudgetPackage) -> list[Block]:
    out = _header(_("Performance targets of the key projects in the %(year)s budget draft",
                    year=package.year))
    out.append(Block("paragraph", _(
        "Key projects: projects and fiscal policies of at least %(amount)s; %(count)s in all.",
        amount=yuan(package.threshold), count=len(package.projects))))
    for n, project in enumerate(package.projects, start=1):
        item = project.item
        out.append(Block("heading", f"{n}. {item.name}（{item.code}）", level=2))
        out.append(Block("paragraph", _("Department: %(org)s. Budget: %(amount)s.",
                                        org=org_unit_name(item.org_unit_id),
                                        amount=yuan(item.amount))))
        if project.targets is None:
            out.append(Block("paragraph", _("No approved performance targets.")))
            continue
        out.append(Block("paragraph", _("Overall goal: %(goal)s", goal=project.targets.goal)))
        out.append(Block("table", headers=(_("Level-1 indicator"), _("Level-2 indicator"),
                                           _("Level-3 indicator"), _("Target value")),
                         rows=tuple(cells(i.level1, i.level2, i.name, _target_text(i))
                                    for i in project.targets.indicators)))
    return out


def _grade(letter: str) -> str:
    return str(grade_label(GRADES.get(letter, letter)))


def accounts_blocks(package: AccountsPackage) -> list[Block]:
    out = _header(_("Performance evaluation results with the %(year)s final accounts",
                    year=package.year))
    out.append(Block("heading", f"一、{_('Self-evaluation results')}", level=1))
    counts = package.grade_counts()
    out.append(Block("paragraph", _(
        "%(count)s self-evaluations finished: %(grades)s.", count=len(package.self_results),
        grades="，".join(f"{_grade(letter)} {n}" for letter, n in counts.items()))))
    out.append(Block("table", headers=(_("Evaluated item"), _("Department"), _("Amount"),
                                       _("Score"), _("Grade")),
                     rows=tuple(cells(r.title, org_unit_name(r.org_unit_id), yuan(r.amount),
                                      r.score, _grade(r.grade))
                                for r in package.self_results)))
    out.append(Block("heading", f"二、{_('Key evaluation reports')}", level=1))
    if not package.key_reports:
        out.append(Block("paragraph", _("No key evaluation was finished this year.")))
    kinds = {"finance_key": _("Finance key evaluation"),
             "department_key": _("Department key evaluation")}
    for n, report in enumerate(package.key_reports, start=1):
        out.append(Block("heading", f"{n}. {report.title}", level=2))
        out.append(Block("paragraph", _(
            "%(kind)s of %(org)s. Amount evaluated: %(amount)s. Score %(score)s, grade "
            "%(grade)s.", kind=kinds.get(report.kind, report.kind),
            org=org_unit_name(report.org_unit_id), amount=yuan(report.amount),
            score=report.score, grade=_grade(report.grade))))
        if report.summary:
            out.append(Block("paragraph", _("Findings and recommendations: %(summary)s",
                                            summary=report.summary)))
    return out
