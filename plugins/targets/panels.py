"""The targets panel on a budget item's page (``jixiao_item_panels``): the item's target
sheet, its state in words with its level (as on the sheet list), its indicators and a link."""

from __future__ import annotations

from flask import render_template
from flask_babel import format_datetime
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select

from core.contracts import Panel
from core.extensions import db
from core.models import State
from core.permissions import can
from core.web.admin.display import rendered
from plugins.targets import service
from plugins.targets.admin import STATES
from plugins.targets.models import TargetIndicator, TargetSheet


def minute(value) -> str:
    """A stored (naive UTC) time in the user's time zone, to the minute."""
    return format_datetime(value, "yyyy-MM-dd HH:mm") if value is not None else ""


def target_panels(item) -> list[Panel]:
    if not can(current_user, "target_sheet.view"):
        return []
    row = db.session.execute(
        select(TargetSheet, func.count(TargetIndicator.id))
        .outerjoin(TargetIndicator, TargetIndicator.sheet_id == TargetSheet.id)
        .where(TargetSheet.budget_item_id == item.id)
        .group_by(TargetSheet.id)).first()
    if row is None:
        return []
    sheet, indicators = row
    html = render_template("targets/item_panel.html", sheet=sheet, state=STATES.text(sheet),
                           approved=State(sheet.state) == State.APPROVED,
                           indicators=indicators, late=service.is_late(sheet),
                           submitted_at=minute(sheet.submitted_at),
                           updated_at=minute(sheet.updated_at))
    return [Panel("targets", str(_l("Performance targets")), rendered(html))]
