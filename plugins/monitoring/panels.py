"""The monitoring panel on a budget item's page (``jixiao_item_panels``): each round's
record of the item with its warning light (in words and colour), spending and execution
rate, its state and the bureau's corrective decisions."""

from __future__ import annotations

from flask import render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from core.contracts import Panel
from core.extensions import db
from core.models import State
from core.permissions import can
from core.web.admin.display import enum_label, money_text, rendered
from plugins.monitoring.models import (
    ACTION_LABELS,
    LIGHT_COLOURS,
    LIGHT_LABELS,
    CorrectiveDecision,
    DecisionAction,
    Light,
    MonitoringRecord,
    MonitoringRound,
)


def monitoring_panels(item) -> list[Panel]:
    if not can(current_user, "monitoring_record.view"):
        return []
    rows = db.session.execute(
        select(MonitoringRecord, MonitoringRound)
        .join(MonitoringRound, MonitoringRound.id == MonitoringRecord.round_id)
        .where(MonitoringRecord.budget_item_id == item.id)
        .order_by(MonitoringRound.cutoff.desc(), MonitoringRecord.id)).all()
    if not rows:
        return []
    decisions: dict[int, list[dict[str, str]]] = {}
    if can(current_user, "corrective_decision.view"):
        for d in db.session.scalars(select(CorrectiveDecision).where(
                CorrectiveDecision.budget_item_id == item.id).order_by(CorrectiveDecision.id)):
            decisions.setdefault(d.record_id, []).append({
                "action": str(ACTION_LABELS[DecisionAction(d.action)]),
                "state": enum_label(State(d.state or State.DRAFT)),
                "new_budget": money_text(d.new_budget) if d.new_budget is not None else "",
                "due": d.due.isoformat() if d.due else ""})
    lines = []
    for record, rnd in rows:
        light = Light(record.light or 0)
        lines.append({
            "id": record.id, "round": rnd.name, "cutoff": rnd.cutoff.isoformat(),
            "light": str(LIGHT_LABELS[light]), "colour": LIGHT_COLOURS[light],
            "budget": money_text(record.budget),
            "spent": money_text(record.spent) if record.spent is not None else "—",
            "rate": f"{record.execution_rate}%" if record.execution_rate is not None else "—",
            "expected": f"{record.expected_rate}%",
            "state": enum_label(State(record.state or State.DRAFT)),
            "closed": rnd.closed_at is not None,
            "decisions": decisions.get(record.id, [])})
    html = render_template("monitoring/item_panel.html", item=item, lines=lines)
    return [Panel("monitoring", str(_l("Execution monitoring")), rendered(html))]
