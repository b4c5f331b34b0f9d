"""Working with sheets: replace indicators, submit/approve/return, revisions and their diff."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from core.extensions import db
from core.models import BudgetItem, State, utcnow
from core.services import review
from core.workflow import Workflow, WorkflowError
from plugins.targets.models import IndicatorTemplate, TargetIndicator, TargetRevision, TargetSheet
from plugins.targets.rules import TargetRules, find_rules, rules_for_year
from plugins.targets.validation import Problem, quality_problems

#: unit → department → finance bureau
WORKFLOW = Workflow("targets", ("dept_admin", "finance_admin"))
EDITABLE = (State.DRAFT, State.RETURNED)


class TargetError(ValueError):
    """Refused: ``problems`` lists every reason; nothing was written."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


def rules_of(sheet: TargetSheet) -> TargetRules:
    found = find_rules(sheet.rules_code) if sheet.rules_code else None
    return found or rules_for_year(sheet.fiscal_year.year if sheet.fiscal_year else
                                   sheet.budget_item.fiscal_year.year)


def sheet_for(item: BudgetItem) -> TargetSheet:
    """The item's sheet, created (as a draft, in the session) when it has none."""
    sheet = db.session.scalar(select(TargetSheet).where(TargetSheet.budget_item_id == item.id))
    if sheet is None:
        rules = rules_for_year(item.fiscal_year.year)
        sheet = TargetSheet(budget_item=item, fiscal_year_id=item.fiscal_year_id,
                            org_unit_id=item.org_unit_id, goal="", rules_code=rules.code,
                            state=State.DRAFT, review_level=0, revision=0)
        db.session.add(sheet)
    return sheet


def check_editable(sheet: TargetSheet, user) -> None:
    """Refuse unless ``user`` owns the sheet and it is a draft or returned."""
    if State(sheet.state or State.DRAFT) not in EDITABLE:
        raise TargetError([Problem("", _l(
            "The targets of %(item)s are under review or approved and cannot be changed.",
            item=sheet.budget_item.code))])
    if sheet.id is not None and (problem := review.edit_problem(WORKFLOW, sheet, user)):
        raise TargetError([Problem("", problem)])


def replace_indicators(sheet: TargetSheet, cleaned: Sequence[Mapping[str, Any]], user,
                       goal: str | None = None, period_goal: str | None = None) -> None:
    """Put ``cleaned`` indicators (from ``clean_indicator``) in place of the sheet's own."""
    check_editable(sheet, user)
    if goal is not None:
        sheet.goal = goal
    if period_goal is not None:
        sheet.period_goal = period_goal or None
    sheet.indicators.clear()
    db.session.flush()
    for position, values in enumerate(cleaned, start=1):
        sheet.indicators.append(TargetIndicator(
            position=position, org_unit_id=sheet.org_unit_id,
            **{k: values.get(k) for k in INDICATOR_FIELDS}))
    count_template_uses([v.get("template_id") for v in cleaned])
    sheet.updated_at = utcnow()


def add_indicator(sheet: TargetSheet, values: Mapping[str, Any], user) -> TargetIndicator:
    """Append one cleaned indicator (e.g. from the library) to an editable sheet."""
    check_editable(sheet, user)
    position = max((i.position or 0 for i in sheet.indicators), default=0) + 1
    indicator = TargetIndicator(position=position, org_unit_id=sheet.org_unit_id,
                                **{k: values.get(k) for k in INDICATOR_FIELDS})
    sheet.indicators.append(indicator)
    count_template_uses([values.get("template_id")])
    sheet.updated_at = utcnow()
    return indicator


INDICATOR_FIELDS = ("level1", "level2", "name", "comparator", "target_value", "period_value",
                    "unit", "weight", "data_source", "scoring_method", "template_id")


def count_template_uses(template_ids: Sequence[int | None]) -> None:
    """Each use of a library indicator in a sheet counts once."""
    counts: dict[int, int] = {}
    for tid in template_ids:
        if tid:
            counts[tid] = counts.get(tid, 0) + 1
    for tid, n in counts.items():
        db.session.execute(update(IndicatorTemplate).where(IndicatorTemplate.id == tid)
                           .values(usage_count=IndicatorTemplate.usage_count + n))


def snapshot(sheet: TargetSheet) -> dict[str, Any]:
    return {"goal": sheet.goal or "", "period_goal": sheet.period_goal or "",
            "indicators": [{
                "level1": i.level1, "level2": i.level2, "name": i.name,
                "comparator": i.comparator.value if i.comparator else "",
                "target_value": i.target_value or "", "period_value": i.period_value or "",
                "unit": i.unit or "", "weight": str(i.weight), "data_source": i.data_source or "",
                "scoring_method": i.scoring_method or ""} for i in sheet.indicators]}


def transition(sheet: TargetSheet, action: str, user, comment: str = "",
               indicator_comments: Mapping[int, str] | None = None) -> None:
    """Submit (after the quality checks), approve, return (with per-indicator comments)."""
    if action == "submit":
        problems = quality_problems(sheet, rules_of(sheet))
        if problems:
            raise TargetError(problems)
    comments = {k: (v or "").strip() for k, v in (indicator_comments or {}).items()
                if (v or "").strip()}
    if action == "return" and not (comment or "").strip() and comments:
        comment = str(_l("See the comments on the indicators."))
    try:
        WORKFLOW.transition(sheet, action, user, comment)
    except WorkflowError as exc:
        raise TargetError([Problem("", exc.args[0])]) from None
    if action == "submit":
        for ind in sheet.indicators:
            ind.review_comment = None
        sheet.revision = (sheet.revision or 0) + 1
        sheet.submitted_at = utcnow()
        db.session.add(TargetRevision(sheet_id=sheet.id, number=sheet.revision,
                                      org_unit_id=sheet.org_unit_id, data=snapshot(sheet),
                                      user_id=getattr(user, "id", None), created_at=utcnow()))
    elif action == "return":
        for ind in sheet.indicators:
            if ind.id in comments:
                ind.review_comment = comments[ind.id]
    db.session.flush()


def revisions(sheet: TargetSheet) -> list[TargetRevision]:
    return list(db.session.scalars(select(TargetRevision).where(
        TargetRevision.sheet_id == sheet.id).order_by(TargetRevision.number)))


def diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Changes from ``old`` to ``new`` snapshots: added, removed and changed indicators."""
    def key(ind):
        return (ind["level1"], ind["level2"], ind["name"])

    out: list[dict[str, Any]] = []
    for field in ("goal", "period_goal"):
        if (old.get(field) or "") != (new.get(field) or ""):
            out.append({"change": "changed", "indicator": "", "field": field,
                        "old": old.get(field) or "", "new": new.get(field) or ""})
    before = {key(i): i for i in old.get("indicators", [])}
    after = {key(i): i for i in new.get("indicators", [])}
    for k, ind in after.items():
        name = "/".join(k)
        if k not in before:
            out.append({"change": "added", "indicator": name, "field": "",
                        "old": "", "new": _summary(ind)})
            continue
        for field, value in ind.items():
            was = before[k].get(field, "")
            if field == "weight":
                same = Decimal(str(was or 0)) == Decimal(str(value or 0))
            else:
                same = (was or "") == (value or "")
            if not same:
                out.append({"change": "changed", "indicator": name, "field": field,
                            "old": was, "new": value})
    for k, ind in before.items():
        if k not in after:
            out.append({"change": "removed", "indicator": "/".join(k), "field": "",
                        "old": _summary(ind), "new": ""})
    return out


def _summary(ind: Mapping[str, Any]) -> str:
    return f"{ind.get('comparator', '')} {ind.get('target_value', '')}{ind.get('unit', '')} " \
           f"({ind.get('weight', '')})"


def is_late(sheet: TargetSheet, today: date | None = None) -> bool:
    """Submitted after the fiscal year's targets deadline, or still not submitted past it."""
    due = sheet.fiscal_year.deadline("targets") if sheet.fiscal_year else None
    if due is None:
        return False
    if sheet.submitted_at is not None:
        return sheet.submitted_at.date() > due
    return (today or date.today()) > due
