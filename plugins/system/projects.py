"""The project library (项目库): the rules an item's project must meet, and Excel in/out.

One project keeps its code across years; each budget year is one budget item of it.
An item belongs to a project of its own department (its org unit lies in the
project's subtree) and of a year between the project's start and end. The admin
form and the Excel import check these in ``item_problems``; nothing is written
when one fails.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core.extensions import db
from core.models import BudgetItem, FiscalYear, ItemKind, OrgUnit, Project, ProjectStatus
from core.models.budget import ITEM_KIND_LABELS
from core.models.project import PROJECT_STATUS_LABELS
from core.services.excel import (
    CellError,
    Column,
    ExportColumn,
    ExportSheet,
    ImportRejected,
    ImportResult,
    RowError,
    SheetSpec,
    commit_all_or_nothing,
    enum_label,
    integer,
    read_rows,
    text,
)

SHEET = "项目库"


def item_problems(org: OrgUnit | None, project: Project | None, year: int | None) -> list[Any]:
    """Why an item of ``org`` in ``year`` cannot belong to ``project`` (empty: it can)."""
    if project is None:
        return [_l("Choose the project the item belongs to.")]
    problems = []
    home = project.org_unit or db.session.get(OrgUnit, project.org_unit_id)
    if org is not None and not org.path.startswith(home.path):
        problems.append(_l("Project %(code)s belongs to %(org)s, another department.",
                           code=project.code, org=home.name))
    if year is not None and project.end_year is not None and year > project.end_year:
        problems.append(_l("Project %(code)s ended in %(end)s; it has no items in %(year)s.",
                           code=project.code, end=project.end_year, year=year))
    if year is not None and year < project.start_year:
        problems.append(_l("Project %(code)s starts in %(start)s; it has no items in "
                           "%(year)s.", code=project.code, start=project.start_year, year=year))
    return problems


def by_code(code: str | None) -> Project | None:
    if not code:
        return None
    with db.session.no_autoflush:  # an item being created is not written before its project
        return db.session.scalar(select(Project).where(Project.code == code))


def attach(item: BudgetItem) -> Project:
    """The item's project: the one chosen, else the one with the item's code, else a new
    project of the item's code, name, org unit and year (an item starts its project)."""
    if item.project is None:
        year = item.fiscal_year.year
        item.project = by_code(item.code) or Project(
            code=item.code, name=item.name, org_unit=item.org_unit, kind=item.kind,
            start_year=year, status=ProjectStatus.NEW if item.is_new else ProjectStatus.CONTINUING)
    return item.project


def year_problems(project_id: int | None, start: int, end: int | None) -> list[Any]:
    """A project's years (``start`` to ``end``) must hold the years of its items."""
    if project_id is None:
        return []
    years = db.session.scalars(select(FiscalYear.year).join(
        BudgetItem, BudgetItem.fiscal_year_id == FiscalYear.id).where(
        BudgetItem.project_id == project_id)).all()
    outside = sorted(y for y in years if y < start or (end is not None and y > end))
    if outside:
        return [_l("The project has items in %(years)s, outside its years.",
                   years=", ".join(map(str, outside)))]
    return []


# --- Excel ---------------------------------------------------------------------

def _columns() -> list[Column]:
    return [Column("项目编码", "code", text(max_length=40)),
            Column("项目名称", "name", text(max_length=300)),
            Column("主管单位编码", "org_code", text(max_length=40)),
            Column("类型", "kind", enum_label(ITEM_KIND_LABELS)),
            Column("状态", "status", enum_label(PROJECT_STATUS_LABELS)),
            Column("起始年度", "start_year", integer(2000, 2100)),
            Column("终止年度", "end_year", integer(2000, 2100), required=False)]


def export_sheet(projects: list[Project]) -> ExportSheet:
    return ExportSheet(SHEET, [ExportColumn(c.header) for c in _columns()], [
        (p.code, p.name, p.org_unit.code, ITEM_KIND_LABELS[ItemKind(p.kind)],
         PROJECT_STATUS_LABELS[ProjectStatus(p.status)], p.start_year, p.end_year)
        for p in projects])


def import_projects(file: Any) -> int:
    """Add or update the projects of a workbook, all or nothing; raises ImportRejected."""
    result = read_rows(file, SheetSpec(SHEET, _columns()))
    if not result.ok:
        raise ImportRejected(result.errors)
    _refuse_repeated_codes(result)

    def apply(session, row) -> None:
        org = session.scalar(select(OrgUnit).where(OrgUnit.code == row["org_code"]))
        if org is None:
            raise RowError(_l("No org unit has the code %(code)s.", code=row["org_code"]),
                           "主管单位编码")
        project = session.scalar(select(Project).where(Project.code == row["code"])) \
            or Project(code=row["code"])
        if project.id is not None and project.org_unit_id != org.id:
            raise RowError(_l("Project %(code)s belongs to another department; it cannot "
                              "move.", code=row["code"]), "主管单位编码")
        project.name, project.org_unit = row["name"], org
        project.kind, project.status = row["kind"], row["status"]
        project.start_year, project.end_year = row["start_year"], row.get("end_year")
        if project.end_year is not None and project.end_year < project.start_year:
            raise RowError(_l("The end year comes before the start year."), "终止年度")
        problems = year_problems(project.id, project.start_year, project.end_year)
        if problems:
            raise RowError(problems[0], "终止年度")
        session.add(project)

    return commit_all_or_nothing(db.session, result, apply)


def _refuse_repeated_codes(result: ImportResult) -> None:
    seen: dict[str, int] = {}
    errors = []
    for row in result.rows:
        if row["code"] in seen:
            errors.append(CellError(SHEET, row.row, result.columns[SHEET].get("项目编码"),
                                    "项目编码", _l("The code %(code)s is used twice (row "
                                                   "%(first)s).", code=row["code"],
                                                   first=seen[row["code"]])))
        seen.setdefault(row["code"], row.row)
    if errors:
        raise ImportRejected(errors)
