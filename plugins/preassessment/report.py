"""The pre-assessment report (HTML and a Word-compatible .doc), shared lookups of the
pages, and the next-year budget list (requested vs recommended amounts)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import Response, render_template
from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from core.extensions import db
from core.models import BudgetItem, FiscalYear, OrgUnit, User
from core.services.excel import ExportColumn, ExportSheet, content_disposition, xlsx_response
from plugins.preassessment import service
from plugins.preassessment.models import CONCLUSION_LABELS, EXEMPT_KIND_LABELS, Preassessment
from plugins.preassessment.rules import rules_for_year

DOC_MIMETYPE = "application/msword"


def item_of(pa_id: int) -> str:
    """"code name" of a pre-assessment's item (for an expert, who cannot read items)."""
    with service.as_panel_member() as session:
        item = session.scalar(select(BudgetItem).join(
            Preassessment, Preassessment.budget_item_id == BudgetItem.id)
            .where(Preassessment.id == pa_id))
    return f"{item.code} {item.name}" if item is not None else f"#{pa_id}"


def names_of(reviews) -> dict[str, dict[int, str]]:
    """``item_of`` and ``expert_name`` of many reviews at once: two queries for a page."""
    pa_ids, user_ids = {r.preassessment_id for r in reviews}, {r.user_id for r in reviews}
    with service.as_panel_member() as session:
        items = session.execute(select(Preassessment.id, BudgetItem.code, BudgetItem.name)
                                .join(BudgetItem, Preassessment.budget_item_id == BudgetItem.id)
                                .where(Preassessment.id.in_(pa_ids))).all()
        users = session.execute(select(User.id, User.full_name, User.username)
                                .where(User.id.in_(user_ids))).all()
    return {"item": {pa: f"{code} {name}" for pa, code, name in items},
            "expert": {uid: full or username for uid, full, username in users}}


def expert_name(user_id: int) -> str:
    with service.as_panel_member() as session:
        user = session.get(User, user_id)
    return (user.full_name or user.username) if user is not None else f"#{user_id}"


def self_lines(pa: Preassessment) -> list[dict[str, Any]]:
    """The self-assessment sheet: dimension, indicator, weight, points, comment."""
    answers = pa.answers or {}
    return [{"dimension": i.dimension, "name": i.name, "weight": i.weight,
             "points": (answers.get(i.path) or {}).get("points"),
             "comment": (answers.get(i.path) or {}).get("comment") or ""}
            for i in service.rules_of(pa).sheet]


def context(pa: Preassessment, *, for_expert: bool = False) -> dict[str, Any]:
    """Everything the report shows. The panel's scores only once all experts submitted."""
    item = pa.budget_item
    org = db.session.get(OrgUnit, item.org_unit_id)
    rules = service.rules_of(pa)
    panel = service.panel_of(pa.id)
    return {
        "pa": pa, "item": item, "org": org, "rules": rules, "year": item.fiscal_year.year,
        "self_lines": self_lines(pa), "panel": panel,
        "trimmed": panel is not None and len(panel) >= rules.trim_from,
        "expert_name": expert_name, "status": service.STATUS_LABELS[service.status_of(pa)],
        "conclusion_label": CONCLUSION_LABELS.get(pa.conclusion) if pa.conclusion else None,
        "exempt_label": EXEMPT_KIND_LABELS.get(pa.exempt_kind) if pa.exempt_kind else None,
        "suggested": service.suggested(pa), "conclusions": CONCLUSION_LABELS,
        "engagements": [] if for_expert else service.engagements_for(pa),
    }


def doc_response(ctx: dict[str, Any]) -> Response:
    """The report as an HTML document Word opens (.doc, application/msword)."""
    html = render_template("preassessment/report_doc.html", **ctx)
    response = Response("\ufeff" + html, mimetype=DOC_MIMETYPE)
    name = _("Pre-assessment report") + f"-{ctx['item'].code}.doc"
    response.headers["Content-Disposition"] = content_disposition(name, "report.doc")
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- next year's budget -------------------------------------------------------------------

@dataclass(frozen=True)
class BudgetLine:
    item: BudgetItem
    pa: Preassessment | None
    status: str
    requested: Decimal
    recommended: Decimal | None

    @property
    def difference(self) -> Decimal | None:
        return None if self.recommended is None else self.recommended - self.requested


def budget_lines(year: int) -> tuple[list[BudgetLine], dict[str, Decimal]]:
    """Items of budget ``year`` with a pre-assessment or needing one: requested vs
    recommended (an exempt item keeps its requested amount)."""
    rules = rules_for_year(year)
    stmt = (select(BudgetItem, Preassessment)
            .join(FiscalYear, FiscalYear.id == BudgetItem.fiscal_year_id)
            .outerjoin(Preassessment, Preassessment.budget_item_id == BudgetItem.id)
            .where(FiscalYear.year == year, or_(
                Preassessment.id.is_not(None),
                (BudgetItem.kind.in_(rules.item_kinds) & (BudgetItem.amount >= rules.threshold)
                 & BudgetItem.is_new)))
            .order_by(BudgetItem.code)
            .options(joinedload(BudgetItem.org_unit)))
    lines = []
    for item, pa in db.session.execute(stmt):
        status = service.status_of(pa)
        recommended = None
        if status == "concluded":
            recommended = pa.recommended_amount
        elif status == "exempt":
            recommended = item.amount
        lines.append(BudgetLine(item, pa, status, item.amount, recommended))
    decided = [ln for ln in lines if ln.recommended is not None]
    totals = {"requested": sum((ln.requested for ln in lines), Decimal(0)),
              "decided_requested": sum((ln.requested for ln in decided), Decimal(0)),
              "recommended": sum((ln.recommended for ln in decided), Decimal(0))}
    return lines, totals


def budget_xlsx(lines: list[BudgetLine], year: int):
    columns = [ExportColumn(_("Item code")), ExportColumn(_("Item name"), 40),
               ExportColumn(_("Org unit"), 30), ExportColumn(_("Assessment status")),
               ExportColumn(_("Conclusion")), ExportColumn(_("Requested amount (yuan)")),
               ExportColumn(_("Recommended amount (yuan)")), ExportColumn(_("Difference (yuan)"))]
    rows = ([ln.item.code, ln.item.name, ln.item.org_unit.name,
             str(service.STATUS_LABELS[ln.status]),
             str(CONCLUSION_LABELS[ln.pa.conclusion]) if ln.pa and ln.pa.conclusion and
             ln.status == "concluded" else "",
             ln.requested, ln.recommended, ln.difference] for ln in lines)
    return xlsx_response([ExportSheet(_("Budget recommendations"), columns, rows)],
                         _("Budget recommendations") + f"-{year}.xlsx")
