"""Dashboard cards: the latest year's grade distribution, agencies under restriction."""

from __future__ import annotations

from datetime import date

from flask import url_for
from flask_babel import gettext as _

from core.contracts import Widget
from core.permissions import can
from core.services.scoring import grade_label
from plugins.agency_scoring.overview import overview


def scoring_widgets(user) -> list[Widget]:
    if not can(user, "agency_rating.view"):
        return []
    data = overview()
    link = url_for("agency_scoring_overview.index")
    cards = [Widget(_("Agency ratings %(year)s", year=data["year"]),
                    " / ".join(str(d["count"]) for d in data["distribution"]),
                    " / ".join(str(grade_label(d["grade"])) for d in data["distribution"]),
                    link=link, stage="agency_scoring", order=45, tone="info")]
    if can(user, "agency_restriction.view"):
        agencies = {r.agency_id for r in data["restricted"]}
        cards.append(Widget(_("Agencies under restriction"), f"{len(agencies)}",
                            _("%(n)s end within %(days)s days (as of %(day)s)",
                              n=len(data["expiring"]), days=data["expiring_days"],
                              day=date.today().isoformat()),
                            link=link, stage="agency_scoring", order=46, tone="warning" if agencies else "success"))
    return cards
