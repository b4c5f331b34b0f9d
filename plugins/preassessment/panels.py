"""The pre-assessment panel on a budget item's page (``jixiao_item_panels``): the item's
pre-assessment, its state, scores and — once final, or for the bureau — the conclusion
with the recommended amount."""

from __future__ import annotations

from flask import render_template
from flask_babel import format_datetime
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from core.contracts import Panel
from core.extensions import db
from core.models import State
from core.permissions import can
from core.web.admin.display import enum_label, money_text, rendered
from plugins.preassessment import service
from plugins.preassessment.models import CONCLUSION_LABELS, Preassessment


def _minute(value) -> str:
    """A stored (naive UTC) time in the user's time zone, to the minute."""
    return format_datetime(value, "yyyy-MM-dd HH:mm") if value is not None else ""


def preassessment_panels(item) -> list[Panel]:
    if not can(current_user, "preassessment.view"):
        return []
    pa = db.session.scalar(select(Preassessment).where(Preassessment.budget_item_id == item.id))
    if pa is None:
        return []
    # a draft conclusion is the deciders' work in progress: others see it once final
    show_conclusion = pa.conclusion is not None and (
        pa.final_at is not None or can(current_user, "preassessment.decide"))
    html = render_template(
        "preassessment/item_panel.html", pa=pa,
        status=str(service.STATUS_LABELS[service.status_of(pa)]),
        state=enum_label(State(pa.state or State.DRAFT)),
        requested=money_text(item.amount),
        conclusion=str(CONCLUSION_LABELS[pa.conclusion]) if show_conclusion else "",
        recommended=money_text(pa.recommended_amount)
        if show_conclusion and pa.recommended_amount is not None else "",
        exempt=enum_label(pa.exempt_kind) if pa.exempt_kind is not None else "",
        final_at=_minute(pa.final_at), updated_at=_minute(pa.updated_at))
    return [Panel("preassessment", str(_l("Pre-assessment")), rendered(html))]
