"""The dashboard card: publications of the current year and departments below the share."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from core.contracts import Widget
from core.extensions import db
from core.models import State
from core.permissions import can
from plugins.disclosure.models import Publication


def disclosure_widgets(user) -> list[Widget]:
    if not can(user, "publication.view"):
        return []
    from core.models import FiscalYear

    year = FiscalYear.current()
    if year is None:
        return []
    counts = dict(db.session.execute(
        select(Publication.state, func.count(Publication.id))
        .where(Publication.fiscal_year == year.year).group_by(Publication.state)).all())
    if not counts:
        return []
    return [Widget(_("Disclosure %(year)s", year=year.year),
                   f"{counts.get(State.APPROVED, 0):,} / {sum(counts.values()):,}",
                   _("published · %(n)s awaiting approval", n=counts.get(State.SUBMITTED, 0)),
                   link=url_for("publication.index_view"), order=60, tone="info")]
