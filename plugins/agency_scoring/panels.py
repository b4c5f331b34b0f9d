"""The agency-assessment panel on a budget item's page (``jixiao_item_panels``): the
assessments of the engagements covering the item, with score and grade; nothing when
none of them has an assessment. Engagements are read through ``hooks().engagements``
(the agencies plugin), only those assessed in the reader's scope."""

from __future__ import annotations

from flask import render_template, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from sqlalchemy import select

from core.contracts import Panel
from core.extensions import db
from core.plugins import hooks
from core.services.scoring import grade_label
from core.web.admin.display import enum_label, rendered
from plugins.agency_scoring.models import Appeal, AppealStatus, Assessment

STAGE = "agency_scoring"


def item_panels(item) -> list[Panel]:
    assessed = [i for i in db.session.scalars(select(Assessment.engagement_id).where(
        Assessment.engagement_id.is_not(None)))]
    if not assessed:
        return []
    covering = {e.id for e in hooks().engagements(ids=assessed)
                if item.id in e.budget_item_ids}
    if not covering:
        return []
    found = list(db.session.scalars(select(Assessment).where(
        Assessment.engagement_id.in_(covering)).order_by(Assessment.code)))
    pending = set(db.session.scalars(select(Appeal.assessment_id).where(
        Appeal.assessment_id.in_([a.id for a in found]),
        Appeal.status == AppealStatus.PENDING)))
    rows = [{"code": a.code, "title": a.title, "agency": a.agency_name,
             "link": url_for("agency_assessment.page", id=a.id),
             "status": enum_label(a.status),
             "score": "" if a.score is None else str(a.score),
             "grade": grade_label(a.grade) if a.grade else "",
             "scored_at": format_datetime(a.party_at, "yyyy-MM-dd HH:mm") if a.party_at else "",
             "appealed": a.id in pending} for a in found]
    html = render_template("agency_scoring/item_panel.html", rows=rows)
    # the template autoescapes every value: its output is safe HTML
    return [Panel(STAGE, _("Agency assessment"), rendered(html))]
