"""Demo data: the closed year's self-evaluations (most finished), the bureau's key
evaluations (5 projects, 2 policies, 2 departments, as in 2021) and the
re-evaluation of 3 departments.

Created from the approved targets the way finance does it (``create_for_year``),
then about nine in ten units enter their actual values (most targets met, some
missed with an explanation), the year is scored through the same path as the
CLI, and four in five scored evaluations are finalized with their suggestion.
Runs after the targets plugin's demo data (``DEMO_AFTER``).
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, insert, select, update

from core.models import BudgetItem, FiscalYear, State, WorkflowEvent, utcnow
from plugins.evaluation.models import ResultSuggestion, SelfEvaluation, SelfEvaluationLine
from plugins.evaluation.rules import suggestion_for
from plugins.evaluation.service import create_for_year
from plugins.evaluation.year import score_year

REASONS = ["受疫情影响部分任务延后实施。", "项目招标流程延长，进度滞后。", "实际需求低于预期，按需调整。"]
SUMMARIES = ["项目总体按计划实施，资金使用规范；建议进一步细化绩效指标。",
             "部分产出指标未完成，建议加强进度管理，提高预算执行率。"]


def seed_evaluations(session, rng, scale: str) -> None:
    year = session.scalar(select(func.max(FiscalYear.year)).where(FiscalYear.status != "open"))
    if year is None:
        return
    create_for_year(year)
    evs = session.execute(select(SelfEvaluation.id, SelfEvaluation.budget, SelfEvaluation.version)
                          .order_by(SelfEvaluation.id)).all()
    lines = session.execute(select(SelfEvaluationLine.id, SelfEvaluationLine.evaluation_id,
                                   SelfEvaluationLine.comparator,
                                   SelfEvaluationLine.target_value)
                            .order_by(SelfEvaluationLine.id)).all()
    by_ev: dict[int, list] = {}
    for line in lines:
        by_ev.setdefault(line.evaluation_id, []).append(line)
    ev_updates, line_updates = [], []
    for ev_id, budget, version in evs:
        if rng.random() > 0.9:
            continue  # not entered yet
        rate = Decimal(rng.randint(800, 1000)) / 1000
        ev_updates.append({"id": ev_id, "spent": (budget * rate).quantize(Decimal("0.01")),
                           "summary": rng.choice(SUMMARIES), "version": version})
        for line in by_ev.get(ev_id, []):
            missed = rng.random() < 0.15
            values = {"id": line.id, "explanation": rng.choice(REASONS) if missed else ""}
            if line.comparator == "qualitative":
                values.update(grade="partly" if missed else "achieved",
                              ratio=Decimal("0.70") if missed else Decimal("0.95"))
            else:
                target = Decimal(line.target_value)
                actual = target * Decimal("0.8") if missed and line.comparator == "ge" else \
                    target * Decimal("1.25") if missed else target
                values["actual"] = str(actual.normalize() if actual == actual.to_integral()
                                       else actual.quantize(Decimal("0.01")))
            line_updates.append(values)
    if ev_updates:
        session.execute(update(SelfEvaluation), ev_updates)
    if line_updates:
        session.execute(update(SelfEvaluationLine), line_updates)
    score_year(year)
    _finalize_some(session, rng)
    session.flush()
    seed_key_evaluations(session, rng, year)
    seed_re_evaluations(session, rng, year)
    seed_rectifications(session, rng, year)
    session.flush()


def _finalize_some(session, rng) -> None:
    now = utcnow()
    rows = session.execute(select(SelfEvaluation.id, SelfEvaluation.org_unit_id,
                                  SelfEvaluation.score, SelfEvaluation.grade,
                                  SelfEvaluation.version, SelfEvaluation.budget_item_id,
                                  FiscalYear.year)
                           .join(FiscalYear, FiscalYear.id == SelfEvaluation.fiscal_year_id)
                           .where(SelfEvaluation.score.is_not(None))
                           .order_by(SelfEvaluation.id)).all()
    titles = dict(session.execute(select(BudgetItem.id, BudgetItem.code + " " + BudgetItem.name)
                                  .where(BudgetItem.id.in_([r.budget_item_id for r in rows]))
                                  ).all()) if rows else {}
    finals, suggestions, events = [], [], []
    for r in rows:
        roll = rng.random()
        if roll < 0.8:
            finals.append({"id": r.id, "state": State.APPROVED, "review_level": 1,
                           "finalized_at": now, "version": r.version})
            suggestions.append({"evaluation_kind": "self", "evaluation_id": r.id,
                                "fiscal_year": r.year, "org_unit_id": r.org_unit_id,
                                "title": titles[r.budget_item_id], "score": r.score,
                                "grade": r.grade, "suggested": suggestion_for(r.grade),
                                "decided": None, "note": "", "created_at": now,
                                "updated_at": now})
            steps = [("submit", "draft", "submitted", 0), ("approve", "submitted", "approved", 0)]
        elif roll < 0.9:
            finals.append({"id": r.id, "state": State.SUBMITTED, "review_level": 0,
                           "version": r.version})
            steps = [("submit", "draft", "submitted", 0)]
        else:
            continue
        events += [{"object_type": "self_evaluation", "object_id": r.id, "action": a,
                    "from_state": old, "to_state": new, "level": level, "user_id": None,
                    "comment": "", "at": now} for a, old, new, level in steps]
    if finals:
        session.execute(update(SelfEvaluation), finals)
    if suggestions:
        session.execute(insert(ResultSuggestion), suggestions)
    if events:
        session.execute(insert(WorkflowEvent), events)


FINDINGS = "项目决策程序规范，资金管理总体合规，主要产出指标基本完成。"
PROBLEMS = "部分绩效指标设置不够细化；资金支付进度前慢后快。"
ADVICE = "细化绩效指标，加强预算执行进度管理；结合评价结果优化下年度预算安排。"


def seed_key_evaluations(session, rng, year: int) -> None:
    """The bureau's key evaluations of the closed year: 5 projects, 2 policies, 2 departments."""
    from plugins.evaluation import key
    from plugins.evaluation.models import KeyEvaluation

    fy = session.scalar(select(FiscalYear).where(FiscalYear.year == year))
    for kind, object_kind, count in (("project", "project", 5), ("policy", "policy", 2),
                                     ("department_overall", "department", 2)):
        items = session.scalars(select(BudgetItem).where(
            BudgetItem.fiscal_year_id == fy.id, BudgetItem.kind == kind)
            .order_by(BudgetItem.amount.desc()).limit(count)).all()
        for item in items:
            ev = KeyEvaluation(kind="finance_key", object_kind=object_kind, fiscal_year=fy,
                               title=item.name, org_unit_id=item.org_unit_id, after_period=True,
                               team_kind=rng.choice(["finance", "experts"]),
                               team="财政局绩效科、评审专家", findings=FINDINGS, problems=PROBLEMS,
                               recommendations=ADVICE, rule_code="")
            ev.items = [item]
            session.add(ev)
            key.build_sheet(ev)
            session.flush()
            key.save_sheet(ev, {ind.id: {"scores": ", ".join(
                str((ind.weight * Decimal(rng.randint(70, 100)) / 100).quantize(Decimal("0.1")))
                for _ in range(3))} for ind in ev.indicators})
            key.finalize(ev)


def seed_re_evaluations(session, rng, year: int) -> None:
    """Finance re-evaluates the self-evaluations of 3 departments (a sample of 3 each)."""
    from core.models import OrgKind, OrgUnit
    from plugins.evaluation import reeval
    from plugins.evaluation.models import ReEvaluation

    fy = session.scalar(select(FiscalYear).where(FiscalYear.year == year))
    for dept in session.scalars(select(OrgUnit).where(OrgUnit.kind == OrgKind.DEPARTMENT)
                                .order_by(OrgUnit.code).limit(3)):
        re = ReEvaluation(fiscal_year=fy, org_unit=dept, sample_size=3)
        try:
            reeval.draw_sample(re)
        except ValueError:
            continue  # no finished self-evaluation to sample
        session.add(re)
        session.flush()
        for sample in re.samples:
            lines = {}
            if rng.random() < 0.4:  # finance finds the first output overstated
                first = sample.self_evaluation.lines[0]
                if first.comparator != "qualitative" and first.actual:
                    lines[str(first.position)] = {"actual": str(Decimal(first.actual) / 2)}
            reeval.rescore(sample, {"lines": lines}, "抽查核实" if lines else "")
        reeval.finish(re)


def seed_rectifications(session, rng, year: int) -> None:
    """Rectification tasks for the weaker results: some open, some reported done."""
    from datetime import date

    from plugins.evaluation.models import Rectification

    weak = session.scalars(select(ResultSuggestion).where(
        ResultSuggestion.fiscal_year == year, ResultSuggestion.grade.in_(("fair", "poor")))
        .order_by(ResultSuggestion.id).limit(12)).all()
    for n, suggestion in enumerate(weak):
        done = n % 3 == 0
        session.add(Rectification(
            suggestion=suggestion, org_unit_id=suggestion.org_unit_id,
            problem="部分绩效指标未完成，预算执行进度偏慢。", owner="项目负责人",
            due_on=date(year + 1, 6, 30), evidence="整改报告及佐证材料" if done else "",
            state=State.SUBMITTED if done else State.DRAFT, review_level=0,
            done_at=utcnow() if done else None))
