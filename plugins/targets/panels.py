"""The targets panel on a budget item's page (``jixiao_item_panels``): the item's target
sheet, its state in words (with the level it waits at), its indicators and a link."""

from __future__ import annotations

from flask import render_template
from flask_babel import format_datetime, lazy_pgettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select

from core.contracts import Panel
from core.extensions import db
from core.models import State
from core.permissions import can
from core.web.admin.display import enum_label, rendered
from plugins.targets import service
from plugins.targets.models import TargetIndicator, TargetSheet

#: who a submitted sheet waits for, by role of the review chain
WAITING_FOR = {"dept_admin": lazy_pgettext("targets", "waiting for the department's review"),
               "finance_admin": lazy_pgettext("targets",
                                              "waiting for the finance bureau's review")}


def state_text(sheet: TargetSheet) -> str:
    """``已提交（待财政审核）``: the state, and for a submitted sheet the level it waits at."""
    state = State(sheet.state or State.DRAFT)
    words = enum_label(state)
    if state == State.SUBMITTED and (sheet.review_level or 0) < len(service.WORKFLOW.chain):
        waiting = WAITING_FOR.get(service.WORKFLOW.chain[sheet.review_level or 0])
        if waiting is not None:
            return str(lazy_pgettext("targets", "%(state)s (%(waiting)s)", state=words,
                                     waiting=waiting))
    return words


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
    html = render_template("targets/item_panel.html", sheet=sheet, state=state_text(sheet),
                           approved=State(sheet.state) == State.APPROVED,
                           indicators=indicators, late=service.is_late(sheet),
                           submitted_at=minute(sheet.submitted_at),
                           updated_at=minute(sheet.updated_at))
    return [Panel("targets", str(_l("Performance targets")), rendered(html))]
