"""The evaluation stage's card: the selected year's self-evaluations in the user's scope,
finalized of all, one bar per department or unit."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from core.contracts import Widget
from core.extensions import db
from core.models import FiscalYear
from core.permissions import can
from core.web.admin.base import list_url
from core.web.admin.progress import org_bars
from plugins.evaluation.models import SelfEvaluation


def evaluation_widgets(user) -> list[Widget]:
    if not can(user, "self_evaluation.view"):
        return []
    year = FiscalYear.current()
    if year is None:
        return []
    per_org = {org_id: (finished, total) for org_id, finished, total in db.session.execute(
        select(SelfEvaluation.org_unit_id, func.count(SelfEvaluation.finalized_at),
               func.count(SelfEvaluation.id))
        .where(SelfEvaluation.fiscal_year_id == year.id)
        .group_by(SelfEvaluation.org_unit_id))}
    finished = sum(f for f, _t in per_org.values())
    total = sum(t for _f, t in per_org.values())
    this_year = ("fiscal_year.year", year.year)
    return [Widget(_("Self-evaluations %(year)s", year=year.year), f"{finished:,} / {total:,}",
                   _("finalized / created"), link=list_url("selfevaluation", this_year),
                   order=40, tone="success" if total and finished == total else "info",
                   stage="evaluation", due=year.deadline("self_evaluation"),
                   bars=org_bars(per_org, "selfevaluation", SelfEvaluation.org_unit_id,
                                 this_year))]
