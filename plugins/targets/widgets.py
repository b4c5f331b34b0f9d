"""The dashboard card: this year's target sheets in the user's scope."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from core.contracts import Widget
from core.extensions import db
from core.models import State
from core.permissions import can
from plugins.targets.models import TargetSheet


def target_widgets(user) -> list[Widget]:
    if not can(user, "target_sheet.view"):
        return []
    from core.models import FiscalYear

    year = FiscalYear.current()
    if year is None:
        return []
    counts = dict(db.session.execute(
        select(TargetSheet.state, func.count(TargetSheet.id))
        .where(TargetSheet.fiscal_year_id == year.id).group_by(TargetSheet.state)).all())
    total = sum(counts.values())
    approved = counts.get(State.APPROVED, 0)
    return [Widget(
        _("Performance targets %(year)s", year=year.year), f"{approved:,} / {total:,}",
        _("approved · %(submitted)s in review · %(returned)s returned",
          submitted=counts.get(State.SUBMITTED, 0), returned=counts.get(State.RETURNED, 0)),
        link=url_for("targetsheet.index_view"), order=20, tone="success")]
