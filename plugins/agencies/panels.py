"""The agencies stage's panel on a budget item's page (``jixiao_item_panels``): the
engagements covering the item, read under the reader's row scope."""

from __future__ import annotations

from flask import render_template, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from core.contracts import Panel
from core.extensions import db
from core.permissions import can
from core.web.admin.display import enum_label, money_text, rendered
from plugins.agencies.models import Agency, Engagement, engagement_item
from plugins.agencies.service import STATUS_LABELS, status_of

STAGE = "agencies"


def item_panels(item) -> list[Panel]:
    found = db.session.execute(
        select(Engagement, Agency.name)
        .join(engagement_item, engagement_item.c.engagement_id == Engagement.id)
        .join(Agency, Agency.id == Engagement.agency_id)
        .where(engagement_item.c.budget_item_id == item.id)
        .order_by(Engagement.start_on, Engagement.code)).all()
    if not found:
        return []
    portal = current_user.is_authenticated and can(current_user, "agency_portal.view")
    rows = [{
        "code": eng.code, "title": eng.title, "agency": agency, "kind": enum_label(eng.kind),
        "link": url_for("agency_portal.engagement", engagement_id=eng.id) if portal
        else url_for("engagement.review", id=eng.id),
        "state": str(STATUS_LABELS[status_of(eng)]),
        "closed": format_datetime(eng.closed_at, "yyyy-MM-dd HH:mm") if eng.closed_at else "",
        "period": f"{eng.start_on.isoformat()} – {eng.end_on.isoformat()}",
        "amount": money_text(eng.contract_amount),
    } for eng, agency in found]
    html = render_template("agencies/item_panel.html", rows=rows,
                           total=money_text(sum(e.contract_amount for e, _a in found)))
    # the template autoescapes every value: its output is safe HTML
    return [Panel(STAGE, _("Third-party engagements"), rendered(html))]
