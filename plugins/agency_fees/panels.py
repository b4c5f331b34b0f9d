"""The service-fee panel on a budget item's page (``jixiao_item_panels``): the stored
quotes of the engagements covering the item, with their total. Engagements are read
through ``hooks().engagements`` (the agencies plugin), only those with a quote in the
reader's scope."""

from __future__ import annotations

from decimal import Decimal

from flask import render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from core.contracts import Panel
from core.extensions import db
from core.plugins import hooks
from core.web.admin.display import money_text, rendered
from plugins.agency_fees.models import FeeQuote
from plugins.agency_fees.service import quote_status

STAGE = "agency_fees"


def item_panels(item) -> list[Panel]:
    quoted = list(db.session.scalars(select(FeeQuote.engagement_id)))
    if not quoted:
        return []
    covering = {e.id for e in hooks().engagements(ids=quoted) if item.id in e.budget_item_ids}
    if not covering:
        return []
    quotes = list(db.session.scalars(select(FeeQuote).where(
        FeeQuote.engagement_id.in_(covering)).order_by(FeeQuote.engagement_code)))
    rows = [{"code": q.engagement_code, "title": q.engagement_title, "agency": q.agency_name,
             "link": url_for("fee_quote.sheet", id=q.id), "schedule": q.schedule_label,
             "total": money_text(q.total), "contract": money_text(q.contract_amount),
             "deviation": "" if q.deviation_pct is None else f"{q.deviation_pct:+}",
             "status": quote_status(q)} for q in quotes]
    html = render_template(
        "agency_fees/item_panel.html", rows=rows, deviation_label=_("Deviation (%)"),
        total=money_text(sum((q.total for q in quotes), Decimal("0.00"))),
        contract=money_text(sum((q.contract_amount for q in quotes), Decimal("0.00"))))
    # the template autoescapes every value: its output is safe HTML
    return [Panel(STAGE, _("Service fee quotes"), rendered(html))]
