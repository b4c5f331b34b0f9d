"""The pre-assessment stage's card: the selected year's items needing one in the user's
scope, assessed of all, one bar per department or unit; an expert's open reviews."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from core.contracts import Widget
from core.extensions import db
from core.permissions import can
from core.web.admin.progress import org_bars
from plugins.preassessment import service
from plugins.preassessment.models import ExpertReview, Preassessment


def preassessment_widgets(user) -> list[Widget]:
    cards = []
    if can(user, "preassessment_report.view"):
        from core.models import FiscalYear

        year = FiscalYear.current()
        if year is not None:
            rows = service.trigger_rows(year.year)
            missing = sum(1 for r in rows if r.status == "missing")
            key = sum(1 for r in rows if r.pa is not None and r.pa.is_key)
            concluded = sum(1 for r in rows if r.status == "concluded")
            per_org: dict[int, tuple[int, int]] = {}
            for r in rows:
                done, total = per_org.get(r.item.org_unit_id, (0, 0))
                per_org[r.item.org_unit_id] = (done + (r.status != "missing"), total + 1)
            cards.append(Widget(
                _("Pre-assessments %(year)s", year=year.year), f"{len(rows) - missing:,} / "
                f"{len(rows):,}",
                _("assessed · %(missing)s missing · %(key)s key · %(done)s concluded",
                  missing=missing, key=key, done=concluded),
                link=url_for("preassessment_trigger.index", year=year.year), order=18,
                tone="danger" if missing else "success", stage="preassessment",
                due=year.deadline("pre_assessment"),
                bars=org_bars(per_org, "preassessment", Preassessment.org_unit_id,
                              ("fiscal_year.year", year.year))))
    if can(user, "preassessment_review.score"):
        open_reviews = db.session.scalar(select(func.count(ExpertReview.id)).where(
            ExpertReview.user_id == user.id, ExpertReview.submitted_at.is_(None)))
        cards.append(Widget(_("Expert reviews to score"), f"{open_reviews:,}",
                            _("pre-assessments waiting for your scores"),
                            link=url_for("preassessment_review.index_view"), order=17,
                            stage="preassessment",
                            tone="warning" if open_reviews else "secondary"))
    return cards
