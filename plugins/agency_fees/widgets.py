"""The dashboard card: stored quotes and those waiting for a reason or finance approval."""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from core.contracts import Widget
from core.extensions import db
from core.models import State
from core.permissions import can
from plugins.agency_fees.models import FeeQuote


def fee_widgets(user) -> list[Widget]:
    if not can(user, "fee_quote.view"):
        return []
    total = db.session.scalar(select(func.count(FeeQuote.id))) or 0
    pending = db.session.scalar(select(func.count(FeeQuote.id)).where(
        FeeQuote.needs_approval, FeeQuote.state != State.APPROVED)) or 0
    return [Widget(_("Engagement fee quotes"), f"{total:,}",
                   _("%(n)s beyond tolerance awaiting a reason or finance approval", n=pending),
                   link=url_for("fee_quote.index_view"), stage="agency_fees", order=45,
                   tone="warning" if pending else "info")]
