"""The targets stage's card on the home page: the selected year's target sheets in the
reader's scope, approved of all, one bar per department or unit."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from core.contracts import Widget
from core.extensions import db
from core.models import FiscalYear, State
from core.permissions import can
from core.web.admin.base import list_url
from core.web.admin.progress import org_bars, tally
from plugins.targets.models import TargetSheet


def target_widgets(user) -> list[Widget]:
    if not can(user, "target_sheet.view"):
        return []
    year = FiscalYear.current()
    if year is None:
        return []
    rows = db.session.execute(
        select(TargetSheet.org_unit_id, TargetSheet.state, func.count(TargetSheet.id))
        .where(TargetSheet.fiscal_year_id == year.id)
        .group_by(TargetSheet.org_unit_id, TargetSheet.state)).all()
    counts, per_org = tally(rows)
    this_year = ("fiscal_year.year", year.year)
    approved = counts.get(State.APPROVED, 0)
    return [Widget(
        _("Performance targets %(year)s", year=year.year),
        f"{approved:,} / {sum(counts.values()):,}",
        _("approved · %(submitted)s in review · %(returned)s returned",
          submitted=counts.get(State.SUBMITTED, 0), returned=counts.get(State.RETURNED, 0)),
        link=list_url("targetsheet", this_year), order=20, tone="success", stage="targets",
        due=year.deadline("targets"),
        bars=org_bars(per_org, "targetsheet", TargetSheet.org_unit_id, this_year))]
