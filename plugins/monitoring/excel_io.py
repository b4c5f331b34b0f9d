"""Import of spending to date from the budget execution system's Excel export.

Sheet ``预算执行``: item code, spent to date (yuan, at most two places), and an
explanation where spending is above the budget. All or nothing
(``core.services.excel``): cell checks first, then per row the item must be in the
round (and in the user's scope), its record still open, and the amount not
above the budget without an explanation; every error names its row, column
and reason, and only a clean file is written. Lights are recomputed after.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core.extensions import db
from core.models import BudgetItem, State
from core.services.excel import (
    CellError,
    Column,
    ExportColumn,
    ExportSheet,
    ImportRejected,
    RowError,
    SheetSpec,
    commit_all_or_nothing,
    money,
    read_rows,
    text,
)
from plugins.monitoring import service
from plugins.monitoring.models import MonitoringRecord, MonitoringRound

SHEET = "预算执行"
CODE, SPENT, NOTE = "项目编码", "累计支出（元）", "超预算说明"
SPEC = SheetSpec(SHEET, [Column(CODE, "code", text(max_length=40)),
                         Column(SPENT, "spent", money()),
                         Column(NOTE, "note", text(), required=False)])


def import_spending(upload, rnd: MonitoringRound) -> int:
    """Write the spending of every row into the round's records; returns the rows written."""
    if service.round_is_closed(rnd):
        raise service.refuse("round", _l("The round %(round)s is closed: nothing can be "
                                         "submitted or changed any more.", round=rnd.name))
    result = read_rows(upload, SPEC)
    records = {code: rec for rec, code in db.session.execute(
        select(MonitoringRecord, BudgetItem.code)
        .join(BudgetItem, BudgetItem.id == MonitoringRecord.budget_item_id)
        .where(MonitoringRecord.round_id == rnd.id))}
    seen: set[str] = set()
    letters = result.columns.get(SHEET, {})

    def check(row) -> tuple[object, str] | None:
        """Why this row cannot be written (message, column header), or None."""
        record = records.get(row["code"])
        if record is None:
            return _l("Item %(code)s is not in this round (or not yours).",
                      code=row["code"]), CODE
        if row["code"] in seen:
            return _l("Item %(code)s appears twice.", code=row["code"]), CODE
        seen.add(row["code"])
        if State(record.state or State.DRAFT) not in service.EDITABLE:
            return _l("The record of %(code)s is submitted and cannot be changed.",
                      code=row["code"]), CODE
        if row["spent"] > record.budget and not (row.get("note") or "").strip():
            return _l("%(spent)s yuan is above the budget of %(budget)s yuan: explain why.",
                      spent=row["spent"], budget=record.budget), NOTE
        return None

    errors = list(result.errors)
    for row in result.rows:  # every row is checked, also when some cells were refused
        problem = check(row)
        if problem is not None:
            errors.append(CellError(SHEET, row.row, letters.get(problem[1]), problem[1],
                                    problem[0]))
    if errors:
        raise ImportRejected(sorted(errors, key=lambda e: (e.row or 0, e.column_letter or "")))

    def apply(session, row) -> None:
        problems = service.set_spent(records[row["code"]], row["spent"], row.get("note"))
        if problems:  # checked above; kept so that a rule added to set_spent is never skipped
            raise RowError(problems[0].message, column=SPENT)

    count = commit_all_or_nothing(db.session, result, apply, commit=False)
    service.refresh_lights(rnd.id, [records[c].id for c in seen])
    db.session.commit()
    return count


def template_sheet(rnd: MonitoringRound) -> list[ExportSheet]:
    """The import layout with the round's items (and what was entered so far)."""
    rows = db.session.execute(
        select(BudgetItem.code, MonitoringRecord.spent, MonitoringRecord.over_budget_note)
        .join(BudgetItem, BudgetItem.id == MonitoringRecord.budget_item_id)
        .where(MonitoringRecord.round_id == rnd.id).order_by(BudgetItem.code))
    return [ExportSheet(SHEET, [ExportColumn(CODE, width=24), ExportColumn(SPENT, width=18),
                                ExportColumn(NOTE, width=40)],
                        ((code, spent, note) for code, spent, note in rows))]
