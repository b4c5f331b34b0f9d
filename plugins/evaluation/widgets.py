"""The dashboard card: finished self-evaluations of the last closed year, in the user's scope."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from core.contracts import Widget
from core.extensions import db
from core.models import FiscalYear
from core.permissions import can
from plugins.evaluation.models import SelfEvaluation


def evaluation_widgets(user) -> list[Widget]:
    if not can(user, "self_evaluation.view"):
        return []
    year = db.session.scalar(select(func.max(FiscalYear.year)).where(
        FiscalYear.status != "open"))
    if year is None:
        return []
    total, finished = db.session.execute(
        select(func.count(SelfEvaluation.id), func.count(SelfEvaluation.finalized_at))
        .join(FiscalYear, FiscalYear.id == SelfEvaluation.fiscal_year_id)
        .where(FiscalYear.year == year)).one()
    return [Widget(_("Self-evaluations %(year)s", year=year), f"{finished:,} / {total:,}",
                   _("finalized / created"), link=url_for("selfevaluation.index_view"),
                   order=50, tone="success" if total and finished == total else "info")]
