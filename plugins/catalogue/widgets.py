"""The dashboard card: key evaluation coverage of the catalogues in the user's scope."""

from __future__ import annotations

from datetime import date

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import select

from core.contracts import Widget
from core.extensions import db
from core.permissions import can
from plugins.catalogue import planner
from plugins.catalogue.models import Catalogue


def catalogue_widgets(user) -> list[Widget]:
    if not can(user, "catalogue_report.view"):
        return []
    this_year = date.today().year
    catalogues = db.session.scalars(select(Catalogue).options(planner.WITH_ENTRIES).where(
        Catalogue.cycle_start <= this_year,
        Catalogue.cycle_start + Catalogue.cycle_years > this_year))
    entries = covered = at_risk = 0
    for catalogue in catalogues:
        r = planner.report(catalogue, this_year)
        entries, covered, at_risk = entries + r.entries, covered + r.covered, \
            at_risk + len(r.at_risk)
    if not entries:
        return []
    return [Widget(_("Key evaluation catalogue"), f"{covered:,} / {entries:,}",
                   _("evaluated in this cycle · %(n)s at risk", n=at_risk),
                   link=url_for("cataloguereport.index"), stage="catalogue", order=50,
                   tone="warning" if at_risk else "success")]
