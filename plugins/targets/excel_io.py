"""Excel import and export: target sheets in the finance bureaus' layout, and the library.

Target sheets: one row per level-3 indicator with its level-1 and level-2
parents and the budget item's code (sheet ``绩效目标``). An import is all or
nothing: the workbook is read and every row checked first (``core.services.excel.read_rows``
for headers, merged cells, formulas and cell types; then unknown item codes,
the indicator rules, duplicates and weights per item), and every error is
listed with its sheet, row and column; only a clean file is written, in one
transaction, with bulk statements (the audit log records each as a bulk entry).
Items are looked up through the row scope, so a user can only write sheets of
items they may see.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, insert, select, update

from core.extensions import db
from core.models import BudgetItem, FiscalYear, State, utcnow
from core.services.excel import (
    CellError,
    Column,
    ExportColumn,
    ExportSheet,
    ImportedRow,
    ImportRejected,
    RowError,
    SheetSpec,
    commit_all_or_nothing,
    read_rows,
    text,
)
from plugins.targets.models import (
    COMPARATOR_LABELS,
    METHOD_LABELS,
    IndicatorTemplate,
    TargetIndicator,
    TargetSheet,
)
from plugins.targets.rules import rules_for_year
from plugins.targets.service import EDITABLE
from plugins.targets.validation import clean_indicator, parse_comparator, parse_method

SHEET = "绩效目标"
LIBRARY_SHEET = "指标库"
CHUNK = 2000


def _raw(value: Any) -> Any:
    return value


#: field key → header, in the order of the export
HEADERS = {
    "code": "项目编码", "item_name": "项目名称", "goal": "总体目标", "level1": "一级指标",
    "level2": "二级指标", "name": "三级指标", "comparator": "比较符", "target_value": "指标值",
    "unit": "计量单位", "weight": "权重", "scoring_method": "评分方法",
    "data_source": "数据来源", "period_value": "全周期指标值",
}
_REQUIRED = {"code", "level1", "level2", "name", "comparator", "weight"}
_RAW = {"target_value", "weight", "period_value"}
SHEET_SPEC = SheetSpec(SHEET, [
    Column(header, key, _raw if key in _RAW else text(), key in _REQUIRED)
    for key, header in HEADERS.items()])


#: the cleaned values kept per row, in this order (a tuple per row keeps memory flat)
_KEPT = ("level1", "level2", "name", "comparator", "target_value", "period_value", "unit",
         "weight", "data_source", "scoring_method")
_POSITION = {key: n for n, key in enumerate(_KEPT, start=1)}  # 0 is the row number


class _Errors:
    """Errors found after the cell check: (row, field key, message), given letters at the end."""

    def __init__(self) -> None:
        self.found: list[tuple[int | None, str | None, Any]] = []

    def add(self, row: int | None, key: str | None, message: Any) -> None:
        self.found.append((row, key, message))

    def cell_errors(self, letters: dict[str, str]) -> list[CellError]:
        out = []
        for row, key, message in self.found:
            header = HEADERS.get(key) if key else None
            out.append(CellError(SHEET, row, letters.get(header) if header else None, header,
                                 message))
        return out


def import_sheets(file: Any, year: int) -> int:
    """Import the target sheets in ``file`` for fiscal ``year``; returns indicators written.

    Raises ``ImportRejected`` with every error; then nothing was written. Rows
    are checked as they are read and kept as compact tuples (repeated texts
    shared), so memory grows little with the size of the file.
    """
    fiscal_year = db.session.scalar(select(FiscalYear).where(FiscalYear.year == year))
    if fiscal_year is None:
        raise ImportRejected([CellError(None, None, None, None, _l(
            "There is no fiscal year %(year)s.", year=year))])
    rules = rules_for_year(year)
    later = _Errors()
    groups: dict[str, list[tuple]] = defaultdict(list)
    goals: dict[str, str] = {}
    shared: dict[Any, Any] = {}  # one object per distinct repeated value
    methods: dict[str, bool] = {}

    def share(value: Any) -> Any:
        return shared.setdefault(value, value) if value is not None else None

    def on_row(row: ImportedRow) -> None:
        values = row.values
        code = values["code"]
        goal = values.get("goal")
        if goal and goals.setdefault(code, goal) != goal:
            later.add(row.row, "goal", _l(
                "The overall goal of %(item)s differs from an earlier row.", item=code))
        cleaned, problems = clean_indicator(values, rules, methods)
        for problem in problems:
            later.add(row.row, problem.field, problem.message)
        weight = cleaned["weight"]
        cleaned["weight"] = share(weight) if isinstance(weight, Decimal) else None
        groups[share(code)].append((row.row, *(
            cleaned[k] if k in ("name", "target_value", "weight") else share(cleaned[k])
            for k in _KEPT)))

    result = read_rows(file, SHEET_SPEC, on_row=on_row,
                       max_rows=current_app.config.get("TARGETS_IMPORT_MAX_ROWS", 100_000),
                       max_bytes=current_app.config.get("TARGETS_IMPORT_MAX_BYTES",
                                                        30 * 1024 * 1024))
    shared.clear()
    items = _items(fiscal_year.id, set(groups))
    sheets = _sheets([i[0] for i in items.values()])
    name_at, weight_at = _POSITION["name"], _POSITION["weight"]
    for code, rows in groups.items():
        if code not in items:
            for row in rows:
                later.add(row[0], "code", _l(
                    "Unknown item code “%(code)s” for %(year)s (or not in your scope).",
                    code=code, year=year))
            continue
        sheet = sheets.get(items[code][0])
        if sheet is not None and State(sheet[1]) not in EDITABLE:
            for row in rows:
                later.add(row[0], "code", _l(
                    "The targets of %(item)s are under review or approved and cannot be "
                    "changed.", item=code))
            continue
        seen: set[tuple[str, str, str]] = set()
        total = Decimal(0)
        for row in rows:
            key = (row[1], row[2], row[name_at])
            if key in seen:
                later.add(row[0], "name", _l(
                    "The indicator “%(name)s” appears twice in %(item)s.",
                    name="/".join(key), item=code))
            seen.add(key)
            total += row[weight_at] or Decimal(0)
        if total != rules.total_weight:
            later.add(rows[0][0], "weight", _l(
                "The weights of %(item)s add up to %(sum)s, not %(expected)s.", item=code,
                sum=f"{total.normalize():f}", expected=f"{rules.total_weight:f}"))
    errors = list(result.errors)
    if later.found:
        errors += later.cell_errors(result.columns.get(SHEET, {}))
    if errors:
        errors.sort(key=lambda e: (e.row or 0, len(e.column_letter or ""),
                                   e.column_letter or "", e.column_header or ""))
        raise ImportRejected(errors[:500])
    try:
        written = _write(groups, goals, items, sheets, fiscal_year.id, rules.code)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return written


def _items(year_id: int, codes: set[str]) -> dict[str, tuple[int, int]]:
    """code → (item id, org unit id) of the given codes that the user may see."""
    out: dict[str, tuple[int, int]] = {}
    wanted = sorted(c for c in codes if c)
    for i in range(0, len(wanted), 500):
        for item_id, code, org_id in db.session.execute(
                select(BudgetItem.id, BudgetItem.code, BudgetItem.org_unit_id)
                .where(BudgetItem.fiscal_year_id == year_id,
                       BudgetItem.code.in_(wanted[i:i + 500]))):
            out[code] = (item_id, org_id)
    return out


def _sheets(item_ids: list[int]) -> dict[int, tuple[int, str, int]]:
    """item id → (sheet id, state, version) of the items' existing sheets (no ORM objects)."""
    out: dict[int, tuple[int, str, int]] = {}
    for i in range(0, len(item_ids), 500):
        for item_id, sheet_id, state, version in db.session.execute(
                select(TargetSheet.budget_item_id, TargetSheet.id, TargetSheet.state,
                       TargetSheet.version)
                .where(TargetSheet.budget_item_id.in_(item_ids[i:i + 500]))):
            out[item_id] = (sheet_id, state, version)
    return out


def _write(groups, goals, items, sheets, year_id: int, rules_code: str) -> int:
    now = utcnow()
    new = [{"budget_item_id": items[code][0], "fiscal_year_id": year_id,
            "org_unit_id": items[code][1], "goal": goals.get(code, ""), "rules_code": rules_code,
            "revision": 0, "state": State.DRAFT, "review_level": 0, "version": 1,
            "created_at": now, "updated_at": now}
           for code in groups if items[code][0] not in sheets]
    for i in range(0, len(new), CHUNK):
        db.session.execute(insert(TargetSheet), new[i:i + CHUNK])
    # existing sheets: new goal (if given) and a new version, so that a concurrent edit fails
    changed = []
    for code in groups:
        found = sheets.get(items[code][0])
        if found is not None:
            # the version read above: the ORM checks it and sets the next one
            values = {"id": found[0], "updated_at": now, "version": found[2]}
            if code in goals:
                values["goal"] = goals[code]
            changed.append(values)
    for keys in ({"id", "updated_at", "version", "goal"}, {"id", "updated_at", "version"}):
        same = [v for v in changed if set(v) == keys]
        for i in range(0, len(same), CHUNK):
            db.session.execute(update(TargetSheet).execution_options(
                synchronize_session=False), same[i:i + CHUNK])
    sheet_ids = {item_id: found[0] for item_id, found in
                 _sheets([items[c][0] for c in groups]).items()}
    old = [found[0] for found in sheets.values()]
    for i in range(0, len(old), 500):
        db.session.execute(delete(TargetIndicator).where(
            TargetIndicator.sheet_id.in_(old[i:i + 500])),
            execution_options={"synchronize_session": False})
    written = 0
    batch: list[dict[str, Any]] = []
    for code, group in groups.items():
        sheet_id, org_id = sheet_ids[items[code][0]], items[code][1]
        for position, row in enumerate(group, start=1):
            values = dict(zip(_KEPT, row[1:], strict=True))
            values.update(sheet_id=sheet_id, org_unit_id=org_id, position=position)
            batch.append(values)
            if len(batch) >= CHUNK:
                db.session.execute(insert(TargetIndicator), batch)
                written += len(batch)
                batch = []
    if batch:
        db.session.execute(insert(TargetIndicator), batch)
        written += len(batch)
    db.session.expire_all()
    return written


def export_sheets(sheets) -> list[ExportSheet]:
    """The workbook of ``sheets`` (an iterable of TargetSheet) in the import layout."""
    def rows():
        for sheet in sheets:
            item = sheet.budget_item
            for n, ind in enumerate(sheet.indicators):
                yield [item.code, item.name, sheet.goal if n == 0 else None, ind.level1,
                       ind.level2, ind.name, str(COMPARATOR_LABELS[ind.comparator]),
                       ind.target_value, ind.unit, ind.weight,
                       str(METHOD_LABELS.get(ind.scoring_method, ind.scoring_method)),
                       ind.data_source, ind.period_value]

    widths = {"项目名称": 30, "总体目标": 40, "三级指标": 30}
    return [ExportSheet(SHEET, [ExportColumn(h, widths.get(h), "0.00" if h == "权重" else None)
                                for h in HEADERS.values()], rows())]


#: the template's last column: where the item's targets stand (ignored by the import)
STATUS_HEADER = "填报状态"


def template_sheet(year: int) -> list[ExportSheet]:
    """The import layout with the items of ``year`` whose targets may still be written.

    Items the user may see (row scope) without a sheet get one row with their
    code and name; draft and returned sheets come with their indicators (and
    the goal on the first row), so a returned sheet is fixed in place. The last
    column says where each item stands; the import ignores it.
    """
    from core.models.workflow import STATE_LABELS

    items = db.session.execute(
        select(BudgetItem.id, BudgetItem.code, BudgetItem.name)
        .join(FiscalYear, FiscalYear.id == BudgetItem.fiscal_year_id)
        .where(FiscalYear.year == year).order_by(BudgetItem.code)).all()
    sheets = {s.budget_item_id: s for s in db.session.scalars(
        select(TargetSheet).where(TargetSheet.budget_item_id.in_([i.id for i in items])))}
    blank = [None] * (len(HEADERS) - 2)

    def rows():
        for item_id, code, name in items:
            sheet = sheets.get(item_id)
            if sheet is None:
                yield [code, name, *blank, str(_l("No targets yet"))]
            elif State(sheet.state) in EDITABLE:
                status = str(STATE_LABELS[State(sheet.state)])
                for n, ind in enumerate(sheet.indicators):
                    yield [code, name, sheet.goal if n == 0 else None, ind.level1, ind.level2,
                           ind.name, str(COMPARATOR_LABELS[ind.comparator]), ind.target_value,
                           ind.unit, ind.weight,
                           str(METHOD_LABELS.get(ind.scoring_method, ind.scoring_method)),
                           ind.data_source, ind.period_value, status]
                if not sheet.indicators:
                    yield [code, name, sheet.goal or None, *blank[1:], status]

    widths = {"项目编码": 22, "项目名称": 30, "总体目标": 40, "三级指标": 30}
    return [ExportSheet(SHEET, [*(ExportColumn(h, widths.get(h), "0.00" if h == "权重" else None)
                                  for h in HEADERS.values()), ExportColumn(STATUS_HEADER, 12)],
                        rows())]


# --- the indicator library ------------------------------------------------------------

LIBRARY_HEADERS = {
    "sector": "行业领域", "level1": "一级指标", "level2": "二级指标", "name": "三级指标",
    "comparator": "比较符", "unit": "计量单位", "reference_value": "参考指标值",
    "scoring_method": "评分方法", "data_source": "数据来源", "guidance": "指标说明",
}
LIBRARY_SPEC = SheetSpec(LIBRARY_SHEET, [
    Column(header, key, text(60 if key == "sector" else 200 if key != "guidance" else 2000),
           key in {"sector", "level1", "level2", "name", "comparator"})
    for key, header in LIBRARY_HEADERS.items()])


def import_library(file: Any, year: int) -> int:
    """Add or update library indicators (matched by sector, categories and name)."""
    rules = rules_for_year(year)
    result = read_rows(file, LIBRARY_SPEC)
    seen: set[tuple] = set()

    def apply(session, row: ImportedRow) -> None:
        v = row.values
        raw = {**v, "target_value": v.get("reference_value") or "0", "weight": 1}
        cleaned, problems = clean_indicator(raw, rules)
        for problem in problems:
            if problem.field in ("level1", "level2", "name", "comparator", "scoring_method"):
                raise RowError(problem.message, LIBRARY_HEADERS.get(problem.field))
        key = (v["sector"], cleaned["level1"], cleaned["level2"], cleaned["name"])
        if key in seen:
            raise RowError(_l("This indicator appears twice in the file."), "三级指标")
        seen.add(key)
        template = session.scalar(select(IndicatorTemplate).where(
            IndicatorTemplate.sector == key[0], IndicatorTemplate.level1 == key[1],
            IndicatorTemplate.level2 == key[2], IndicatorTemplate.name == key[3]))
        if template is None:
            template = IndicatorTemplate(sector=key[0], level1=key[1], level2=key[2],
                                         name=key[3], usage_count=0)
            session.add(template)
        template.comparator = cleaned["comparator"]
        template.unit = v.get("unit") or None
        template.reference_value = v.get("reference_value") or None
        template.scoring_method = cleaned["scoring_method"]
        template.data_source = v.get("data_source") or None
        template.guidance = v.get("guidance") or None

    return commit_all_or_nothing(db.session, result, apply)


def export_library(templates) -> list[ExportSheet]:
    def rows():
        for t in templates:
            yield [t.sector, t.level1, t.level2, t.name, str(COMPARATOR_LABELS[t.comparator]),
                   t.unit, t.reference_value,
                   str(METHOD_LABELS.get(t.scoring_method, t.scoring_method)), t.data_source,
                   t.guidance, t.usage_count]

    return [ExportSheet(LIBRARY_SHEET, [*LIBRARY_HEADERS.values(), "使用次数"], rows())]


__all__ = ["HEADERS", "LIBRARY_HEADERS", "STATUS_HEADER", "export_library", "export_sheets",
           "import_library", "import_sheets", "parse_comparator", "parse_method", "template_sheet"]
