"""Store computed scores with their traces, read them back, re-check them.

Plugins score with ``core.services.scoring.score`` and keep the result here, so every
stage explains and reproduces its figures the same way::

    trace = score(sheet, rules, hook_resolver(current_app))
    save_score(db.session, evaluation, trace, purpose="self_evaluation",
               org_unit_id=evaluation.org_unit_id, user=current_user)
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.models.score import ScoreRecord
from core.services.scoring import Resolver, ScoreTrace


def _key(obj: Any) -> tuple[str, int]:
    return obj.__tablename__, obj.id


def save_score(session, obj: Any, trace: ScoreTrace, *, purpose: str, org_unit_id: int,
               user: Any = None) -> ScoreRecord:
    """Add a record for ``obj``'s new score (flushes; the caller commits)."""
    object_type, object_id = _key(obj)
    record = ScoreRecord(
        object_type=object_type, object_id=object_id, purpose=purpose,
        rule_code=trace.rules.code, total=trace.total, grade=trace.grade,
        trace=trace.to_dict(), org_unit_id=org_unit_id,
        computed_by_id=getattr(user, "id", None))
    session.add(record)
    session.flush()
    return record


def latest_score(session, obj: Any, purpose: str) -> ScoreRecord | None:
    """The current score of ``obj`` for ``purpose`` (None if never scored or out of scope)."""
    object_type, object_id = _key(obj)
    return session.scalars(
        select(ScoreRecord).where(ScoreRecord.object_type == object_type,
                                  ScoreRecord.object_id == object_id,
                                  ScoreRecord.purpose == purpose)
        .order_by(ScoreRecord.id.desc()).limit(1)).first()


def trace_of(record: ScoreRecord) -> ScoreTrace:
    """The stored trace; raises ``ScoringError`` if it was altered inconsistently."""
    return ScoreTrace.from_dict(record.trace)


def reproduces(record: ScoreRecord, resolver: Resolver | None = None) -> bool:
    """Recompute from the stored inputs and rule version: the same figures, every node?"""
    trace = trace_of(record)
    return trace.reproduces(resolver) and str(trace.total) == f"{record.total:.2f}" \
        and trace.grade == record.grade
