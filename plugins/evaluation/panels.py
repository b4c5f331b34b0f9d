"""The evaluation panel on a budget item's page (``jixiao_item_panels``).

Every evaluation of the item — its self-evaluation, the key evaluations naming it,
the re-evaluation of its self-evaluation — with kind, state, score and grade in
words and a link to its score page; then the result application (suggestion and
finance's decision) and the rectification tasks with deadline and state. Sections
the reader may not view are left out; queries run under the reader's row scope.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from flask import render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from core.contracts import Panel
from core.extensions import db
from core.models import State
from core.permissions import can
from core.services.scoring import grade_label
from core.web.admin.display import enum_label, rendered
from plugins.evaluation import rectify
from plugins.evaluation.models import (
    KeyEvaluation,
    Rectification,
    ReEvaluationSample,
    ResultSuggestion,
    SelfEvaluation,
    key_evaluation_item,
)
from plugins.evaluation.rules import SUGGESTION_LABELS
from plugins.evaluation.tasks import STAGE

KIND_LABELS = {"self": _l("Self-evaluation"),
               "department_key": _l("Department key evaluation"),
               "finance_key": _l("Finance key evaluation"),
               "re_evaluation": _l("Re-evaluation")}


@dataclass
class Line:
    """One evaluation of the item as the panel shows it."""

    kind: str  # a ``KIND_LABELS`` key
    evaluation_id: int
    title: str
    state: str
    score: Decimal | None
    grade: str
    link: str | None
    finalized_at: datetime | None


def _grade(code: str | None) -> str:
    return str(grade_label(code)) if code else ""


def _may(permission: str) -> bool:
    return can(current_user, f"{permission}.view")


def evaluation_panels(item: Any) -> list[Panel]:
    lines: list[Line] = []
    self_ev = None
    if _may("self_evaluation"):
        self_ev = db.session.scalar(select(SelfEvaluation).where(
            SelfEvaluation.budget_item_id == item.id))
    if self_ev is not None:
        state = _l("Finalized") if self_ev.finalized_at else enum_label(State(self_ev.state))
        lines.append(Line("self", self_ev.id, str(_l("Self-evaluation")), str(state),
                          self_ev.score, _grade(self_ev.grade),
                          url_for("selfevaluation.score_page", id=self_ev.id),
                          self_ev.finalized_at))
        if _may("re_evaluation"):
            for sample in db.session.scalars(
                    select(ReEvaluationSample).options(
                        selectinload(ReEvaluationSample.re_evaluation))
                    .where(ReEvaluationSample.self_evaluation_id == self_ev.id)):
                re = sample.re_evaluation
                lines.append(Line(
                    "re_evaluation", sample.id, str(_l("Re-evaluation")),
                    str(_l("Finished") if re.finalized_at else
                        _l("Re-scored") if sample.score is not None else _l("Sampled")),
                    sample.score, _grade(sample.grade),
                    url_for("reevaluation.compare_page", id=re.id), re.finalized_at))
    if _may("key_evaluation"):
        for ev in db.session.scalars(
                select(KeyEvaluation)
                .join(key_evaluation_item, key_evaluation_item.c.evaluation_id == KeyEvaluation.id)
                .where(key_evaluation_item.c.budget_item_id == item.id)
                .order_by(KeyEvaluation.id)):
            lines.append(Line(ev.kind, ev.id, ev.title,
                              str(_l("Finalized") if ev.finalized_at else _l("Being scored")),
                              ev.score, _grade(ev.grade),
                              url_for("keyevaluation.sheet_page", id=ev.id), ev.finalized_at))
    if not lines:
        return []
    suggestions, tasks = [], []
    if _may("evaluation_suggestion") or _may("rectification"):
        keys = [(line.kind, line.evaluation_id) for line in lines]
        found = list(db.session.scalars(select(ResultSuggestion).where(or_(*[
            and_(ResultSuggestion.evaluation_kind == kind,
                 ResultSuggestion.evaluation_id == ev_id) for kind, ev_id in keys]))
            .order_by(ResultSuggestion.id)))
        if _may("evaluation_suggestion"):
            suggestions = found
        if _may("rectification") and found:
            tasks = list(db.session.scalars(select(Rectification).options(
                selectinload(Rectification.suggestion)).where(
                Rectification.suggestion_id.in_([s.id for s in found]))
                .order_by(Rectification.due_on, Rectification.id)))
    html = render_template(
        "evaluation/item_panel.html", lines=lines, kinds=KIND_LABELS, suggestions=suggestions,
        tasks=tasks, suggestion_labels=SUGGESTION_LABELS, grade=_grade,
        state_label=lambda s: enum_label(State(s)), overdue=rectify.overdue,
        approved=State.APPROVED)
    # the template is autoescaped: its output is safe HTML
    return [Panel(STAGE, str(_l("Performance evaluation")), rendered(html))]
