"""Dashboard cards: this year's pre-assessments in the user's scope; an expert's open reviews."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from core.contracts import Widget
from core.extensions import db
from core.permissions import can
from plugins.preassessment import service
from plugins.preassessment.models import ExpertReview


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
            cards.append(Widget(
                _("Pre-assessments %(year)s", year=year.year), f"{len(rows) - missing:,} / "
                f"{len(rows):,}",
                _("assessed · %(missing)s missing · %(key)s key · %(done)s concluded",
                  missing=missing, key=key, done=concluded),
                link=url_for("preassessment_trigger.index", year=year.year), order=18,
                tone="danger" if missing else "success"))
    if can(user, "preassessment_review.score"):
        open_reviews = db.session.scalar(select(func.count(ExpertReview.id)).where(
            ExpertReview.user_id == user.id, ExpertReview.submitted_at.is_(None)))
        cards.append(Widget(_("Expert reviews to score"), f"{open_reviews:,}",
                            _("pre-assessments waiting for your scores"),
                            link=url_for("preassessment_review.index_view"), order=17,
                            tone="warning" if open_reviews else "secondary"))
    return cards
