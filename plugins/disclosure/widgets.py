"""The disclosure stage's card: the selected year's publications in the user's scope,
published of all, one bar per department or unit."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from core.contracts import Widget
from core.extensions import db
from core.models import State
from core.permissions import can
from core.web.admin.base import list_url
from core.web.admin.progress import org_bars, tally
from plugins.disclosure.models import Publication


def disclosure_widgets(user) -> list[Widget]:
    if not can(user, "publication.view"):
        return []
    from core.models import FiscalYear

    year = FiscalYear.current()
    if year is None:
        return []
    rows = db.session.execute(
        select(Publication.org_unit_id, Publication.state, func.count(Publication.id))
        .where(Publication.fiscal_year == year.year)
        .group_by(Publication.org_unit_id, Publication.state)).all()
    if not rows:
        return []
    counts, per_org = tally(rows)
    this_year = ("publication.fiscal_year", year.year)
    return [Widget(_("Disclosure %(year)s", year=year.year),
                   f"{counts.get(State.APPROVED, 0):,} / {sum(counts.values()):,}",
                   _("published · %(n)s awaiting approval", n=counts.get(State.SUBMITTED, 0)),
                   link=list_url("publication", this_year), order=60, tone="info",
                   stage="disclosure", due=year.deadline("disclosure"),
                   bars=org_bars(per_org, "publication", Publication.org_unit_id, this_year))]
