"""What an assessment page shows, shared by the admin page and the API: the sheet's
lines with their points and scorer, and the portal's evidence next to them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.models import ScoreRecord, User
from core.scope import unscoped
from core.services.score_records import trace_of
from plugins.agency_scoring.models import Assessment
from plugins.agency_scoring.rules import SheetItem
from plugins.agency_scoring.service import PARTY, SPOT, rules_of


def _user_name(session, user_id: int | None) -> str:
    if user_id is None:
        return ""
    user = session.get(User, user_id)
    return (user.full_name or user.username) if user else ""


def score_lines(assessment: Assessment, who: str) -> dict[str, Any] | None:
    """One score (``PARTY`` or ``SPOT``) as shown: total, scorer, time, and every line.

    The record is read without scope once the caller may see the assessment (an
    agency user sees its own assessment's trace, not other score records).
    """
    record_id, by_id, at = (
        (assessment.party_record_id, assessment.party_by_id, assessment.party_at)
        if who == PARTY else
        (assessment.spot_record_id, assessment.spot_by_id, assessment.spot_at))
    if record_id is None:
        return None
    # score records and users are not agency rows: an agency user reads its own trace here
    with unscoped() as session:
        record = session.scalar(select(ScoreRecord).where(ScoreRecord.id == record_id))
        by = _user_name(session, by_id)
    trace = trace_of(record)
    items = {i.path.split("/", 1)[1]: i for i in _items(assessment, who)}
    lines = []
    for path, node in trace.lines():
        item = items.get(node.name) if not node.children else None
        lines.append({"path": path, "group": bool(node.children), "weight": str(node.weight),
                      "points": str(node.points), "method": node.method or "",
                      "inputs": node.inputs, "formula": node.formula, "by": by,
                      "evidence": item.evidence if item else ""})
    return {"who": who, "total": str(trace.total), "grade": trace.grade, "by": by,
            "at": at.isoformat(timespec="minutes") if at else None,
            "rule_code": record.rule_code, "lines": lines}


def _items(assessment: Assessment, who: str) -> tuple[SheetItem, ...]:
    rules = rules_of(assessment)
    return rules.sheet if who == PARTY else rules.spot_sheet


def scores_of(assessment: Assessment) -> list[dict[str, Any]]:
    return [s for s in (score_lines(assessment, PARTY), score_lines(assessment, SPOT)) if s]
