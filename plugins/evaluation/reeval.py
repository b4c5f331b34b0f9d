"""Re-evaluation (再评价): finance re-scores a sample of a department's self-evaluations.

Finance picks a department, a year and a sample size; the sample is drawn from
the department's finalized self-evaluations (its units included), the same for
the same department and year. Each sampled evaluation is re-scored from
finance's corrected values through the very same path as the self-evaluation
(``service.sheet_data`` → ``sheet.score_sheet``). A difference is flagged when
the grade changes or the score moves by at least the configured gap
(``EVALUATION_REEVAL_GAP``, 10 points); the department's accuracy is the share
of sampled items without a flag.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core.extensions import db
from core.models import OrgUnit, utcnow
from core.money import MoneyError, parse_money
from core.plugins import hooks
from core.services.score_records import save_score
from core.services.scoring import Problem, hook_resolver
from plugins.evaluation.contracts import re_result
from plugins.evaluation.models import (
    ReEvaluation,
    ReEvaluationSample,
    ResultSuggestion,
    SelfEvaluation,
)
from plugins.evaluation.rules import reeval_gap, suggestion_for
from plugins.evaluation.service import EvaluationError, sheet_data
from plugins.evaluation.sheet import SheetError, SheetScore, score_sheet

PURPOSE = "re_evaluation"


def draw_sample(re: ReEvaluation) -> list[ReEvaluationSample]:
    """Draw the sample (deterministic per department and year) and keep the self scores."""
    org = re.org_unit or db.session.get(OrgUnit, re.org_unit_id)
    year_id = re.fiscal_year_id or re.fiscal_year.id
    candidates = list(db.session.execute(
        select(SelfEvaluation.id, SelfEvaluation.score, SelfEvaluation.grade,
               SelfEvaluation.org_unit_id)
        .join(OrgUnit, OrgUnit.id == SelfEvaluation.org_unit_id)
        .where(SelfEvaluation.fiscal_year_id == year_id,
               SelfEvaluation.finalized_at.is_not(None),
               OrgUnit.path.startswith(org.path))
        .order_by(SelfEvaluation.id)))
    if not candidates:
        raise EvaluationError(Problem("org_unit", _l(
            "%(org)s has no finalized self-evaluations in this year.", org=org.name)))
    if not 0 < re.sample_size <= len(candidates):
        raise EvaluationError(Problem("sample_size", _l(
            "The sample size must be between 1 and %(max)s.", max=len(candidates))))
    chosen = random.Random(f"{year_id}-{org.id}").sample(
        candidates, re.sample_size)
    if re.id is not None and re.samples:  # a new size: the old sample goes first
        re.samples.clear()
        db.session.flush()
    re.samples = [ReEvaluationSample(self_evaluation_id=c.id, self_score=c.score,
                                     self_grade=c.grade, corrections={}, org_unit_id=c.org_unit_id)
                  for c in sorted(chosen, key=lambda c: c.id)]
    return re.samples


def corrected_data(sample: ReEvaluationSample,
                   corrections: Mapping[str, Any]) -> dict[str, Any]:
    """The self-evaluation's sheet data with finance's corrections applied."""
    ev = sample.self_evaluation
    data = sheet_data(ev, ev.lines)
    if corrections.get("spent") not in (None, ""):
        data["spent"] = corrections["spent"]
    lines = corrections.get("lines") or {}
    for line, raw in zip(ev.lines, data["indicators"], strict=True):
        for key, value in (lines.get(str(line.position)) or {}).items():
            if key in ("actual", "grade", "ratio") and value not in (None, ""):
                raw[key] = value
    return data


def rescore(sample: ReEvaluationSample, corrections: Mapping[str, Any],
            note: str = "", user: Any = None) -> SheetScore:
    """Re-score one sampled self-evaluation from finance's corrections; all or nothing."""
    if sample.re_evaluation.finalized_at is not None:
        raise EvaluationError(Problem("", _l("The re-evaluation is finished.")))
    if corrections.get("spent") not in (None, ""):
        try:  # an amount of money: more than 2 places is refused, never rounded
            parse_money(corrections["spent"])
        except MoneyError as exc:
            raise EvaluationError(Problem("spent", exc.args[0])) from None
    try:
        result = score_sheet(corrected_data(sample, corrections),
                             resolver=hook_resolver(current_app))
    except SheetError as exc:
        raise EvaluationError(exc.problems) from None
    sample.corrections = dict(corrections)
    sample.score, sample.grade = result.score, result.grade
    sample.flagged = differs(sample.self_score, sample.self_grade, result.score, result.grade)
    sample.note = note.strip()
    db.session.flush()
    save_score(db.session, sample, result.trace, purpose=PURPOSE,
               org_unit_id=sample.org_unit_id, user=user)
    return result


def differs(self_score: Decimal, self_grade: str, score: Decimal, grade: str) -> bool:
    return grade != self_grade or abs(score - self_score) >= reeval_gap()


def finish(re: ReEvaluation, user: Any = None) -> Decimal:
    """Record the department's accuracy; every re-scored item becomes a final result."""
    if re.finalized_at is not None:
        raise EvaluationError(Problem("", _l("The re-evaluation is finished.")))
    missing = [s for s in re.samples if s.score is None]
    if missing:
        raise EvaluationError(Problem("", _l(
            "%(count)s sampled self-evaluations are not re-scored yet.", count=len(missing))))
    held = sum(1 for s in re.samples if not s.flagged)
    re.accuracy = (Decimal(held) * 100 / len(re.samples)).quantize(Decimal("0.1"))
    re.finalized_at = utcnow()
    db.session.flush()
    for sample in re.samples:
        view = re_result(sample)
        db.session.add(ResultSuggestion(
            evaluation_kind="re_evaluation", evaluation_id=sample.id,
            fiscal_year=view.fiscal_year, org_unit_id=sample.org_unit_id, title=view.title,
            score=view.score, grade=sample.grade or "", suggested=suggestion_for(sample.grade or ""),
            note=""))
        db.session.flush()
        hooks().evaluation_finalized(view)
    return re.accuracy
