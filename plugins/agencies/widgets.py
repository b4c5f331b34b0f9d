"""The dashboard card: open engagements (and, for agencies, their own) in the user's scope."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from core.contracts import Widget
from core.extensions import db
from core.models import State
from core.permissions import can
from plugins.agencies.models import Engagement, WorkLog


def agency_widgets(user) -> list[Widget]:
    if not can(user, "engagement.view"):
        return []
    open_ = db.session.scalar(select(func.count(Engagement.id)).where(
        Engagement.state == State.APPROVED, Engagement.closed_at.is_(None))) or 0
    waiting = db.session.scalar(select(func.count(Engagement.id)).where(
        Engagement.state == State.SUBMITTED)) or 0
    hours = db.session.scalar(select(func.coalesce(func.sum(WorkLog.hours), 0))) or 0
    link = url_for("agency_portal.index") if can(user, "agency_portal.view") \
        else url_for("engagement.index_view")
    return [Widget(_("Agency engagements in progress"), f"{open_:,}",
                   _("%(waiting)s awaiting approval · %(hours)s hours logged",
                     waiting=waiting, hours=f"{hours:,}"),
                   link=link, stage="agencies", order=40, tone="info")]
