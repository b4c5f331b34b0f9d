"""Demo data: the open year's pre-assessments — flags, exempt items, self-assessments in
every state, key pre-assessments with expert panels (one still scoring), conclusions."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from core.models import BudgetItem, FiscalYear, Role, State, User, utcnow
from core.services.score_records import save_score
from plugins.preassessment import service
from plugins.preassessment.models import Conclusion, ExemptKind, ExpertReview, Preassessment
from plugins.preassessment.rules import rules_for_year

EXEMPT_BY_WORD = {"信息化建设": ExemptKind.INFORMATION_TECHNOLOGY,
                  "设施维护": ExemptKind.URBAN_MAINTENANCE,
                  "设备购置": ExemptKind.CAPITAL_CONSTRUCTION,
                  "扶持政策": ExemptKind.INDUSTRIAL_POLICY}
REVIEWERS = {ExemptKind.INFORMATION_TECHNOLOGY: "区数据局（信息化项目审核）",
             ExemptKind.URBAN_MAINTENANCE: "区绿化和市容管理局（城市维护项目审核）",
             ExemptKind.CAPITAL_CONSTRUCTION: "区发展和改革委员会（基本建设项目审批）",
             ExemptKind.INDUSTRIAL_POLICY: "区经济委员会（产业政策审核）"}
OPINIONS = ["项目立项依据充分，建设内容与规划相符，同意立项。",
            "方案基本可行，建议优化分年度资金安排后实施。",
            "预算测算依据较充分，需进一步细化绩效指标。"]
SUMMARIES = ["项目符合区委区政府重点工作部署，需求明确，方案可行。",
             "政策目标清晰，受益对象明确，资金来源合规。",
             "成本测算依据已补充，分年度实施计划已细化。"]


def _points(rng, rules, quality: float) -> dict[str, str]:
    out = {}
    for ind in rules.sheet:
        share = min(Decimal("1"), Decimal(str(round(quality + rng.uniform(-0.08, 0.08), 2))))
        out[ind.path] = str((ind.weight * share * 2).quantize(Decimal(1)) / 2)
    return out


def seed_preassessments(session, rng, scale: str) -> None:
    rng = _copy(rng)  # our own draws do not shift the other plugins' demo data
    year = session.scalar(select(FiscalYear).where(FiscalYear.status == "open")
                          .order_by(FiscalYear.year.desc()).limit(1))
    finance = session.scalar(select(User).where(User.username == "finance"))
    experts = list(session.scalars(select(User).join(Role, Role.id == User.role_id)
                                   .where(Role.name == "expert").order_by(User.username)))
    if year is None or finance is None or not experts:
        return
    rules = rules_for_year(year.year)
    items = list(session.scalars(select(BudgetItem).where(
        BudgetItem.fiscal_year_id == year.id, BudgetItem.kind.in_(rules.item_kinds),
        BudgetItem.amount >= rules.threshold).order_by(BudgetItem.id)))
    records: list[Preassessment] = []
    for item in items:
        changed = not item.is_new and rng.random() < 0.08
        extended = item.kind == "policy" and not item.is_new and rng.random() < 0.3
        if not (item.is_new or changed or extended):
            continue
        pa = Preassessment(budget_item_id=item.id, fiscal_year_id=year.id,
                           org_unit_id=item.org_unit_id, rules_code=rules.code, answers={},
                           substantially_changed=changed, extends_expiring_policy=extended,
                           change_note="补贴标准和受益对象范围调整" if changed else None,
                           high_attention=rng.random() < 0.2, state=State.DRAFT,
                           review_level=0)
        pa.budget_item = item
        word = next((w for w in EXEMPT_BY_WORD if w in item.name), None)
        roll = rng.random()
        if word and roll < 0.35:
            kind = EXEMPT_BY_WORD[word]
            pa.exempt_kind, pa.reviewing_department = kind, REVIEWERS[kind]
            pa.review_opinion = rng.choice(OPINIONS)
        elif roll < 0.85:
            _self_assess(session, rng, pa, rules, finance)
        session.add(pa)
        records.append(pa)
    session.flush()
    _key_panels(session, rng, [p for p in records if p.exempt_kind is None
                               and p.state in (State.SUBMITTED, State.APPROVED)
                               and p.budget_item.amount >= rules.key_threshold],
                rules, experts, finance, 8 if scale == "district" else 3)
    plain = [pa for pa in records if not pa.is_key and pa.state == State.APPROVED]
    chosen = [pa for pa in plain if rng.random() < 0.6] or plain[:1]  # always one to show
    for pa in chosen:
        _conclude(pa, rules, finance, rng)
    session.flush()


def _copy(rng) -> random.Random:
    local = random.Random()
    local.setstate(rng.getstate())
    return local


def _self_assess(session, rng, pa, rules, finance) -> None:
    quality = rng.choice([0.55, 0.7, 0.8, 0.88, 0.93])
    points = _points(rng, rules, quality)
    pa.answers = {path: {"points": value, "comment": ""} for path, value in points.items()}
    pa.summary = rng.choice(SUMMARIES)
    roll = rng.random()
    if roll < 0.25:
        return
    pa.state = State.SUBMITTED if roll < 0.55 else State.APPROVED
    trace = service.compute(rules, points, "部门自评估")
    pa.self_score = trace.total
    session.add(pa)
    session.flush()
    save_score(session, pa, trace, purpose=service.SELF, org_unit_id=pa.org_unit_id,
               user=finance)


def _key_panels(session, rng, pool, rules, experts, finance, wanted: int) -> None:
    pool.sort(key=lambda p: (not (p.budget_item.is_key_task or p.high_attention),
                             -p.budget_item.amount))
    chosen = pool[:wanted]
    for n, pa in enumerate(chosen):
        pa.is_key = True
        size = min(len(experts), 5 if n % 2 == 0 else 3)  # trimmed mean, plain mean
        panel = [experts[0], *rng.sample(experts[1:], size - 1)]
        still_scoring = n == len(chosen) - 1
        reviews = []
        for k, expert in enumerate(panel):
            review = ExpertReview(preassessment_id=pa.id, user_id=expert.id, scores={})
            session.add(review)
            reviews.append(review)
            if still_scoring and k != 1:
                continue  # one expert has submitted; expert01 and the others are still scoring
            scores = _points(rng, rules, rng.choice([0.62, 0.75, 0.82, 0.9]))
            trace = service.compute(rules, scores, "专家评分")
            review.scores, review.total = scores, trace.total
            review.opinion = rng.choice(OPINIONS)
            review.submitted_at = utcnow() - timedelta(days=rng.randint(3, 30))
            session.flush()
            save_score(session, review, trace, purpose=service.EXPERT,
                       org_unit_id=pa.org_unit_id, user=expert)
        if not still_scoring:
            service.complete_panel(pa, reviews, finance)
            pa.state = State.APPROVED
            _conclude(pa, rules, finance, rng)


def _conclude(pa, rules, finance, rng) -> None:
    basis = pa.panel_score if pa.is_key else pa.self_score
    pa.conclusion = Conclusion(rules.scoring_rules().grade(basis).code)
    requested = pa.budget_item.amount
    pa.recommended_amount = {
        Conclusion.SUPPORT: requested,
        Conclusion.ADJUST: (requested * Decimal("0.8")).quantize(Decimal("0.01")),
        Conclusion.REJECT: Decimal("0.00")}[pa.conclusion]
    pa.conclusion_note = "经专家组评议，按评分结果确定结论。" if pa.is_key else None
    pa.concluded_by_id = finance.id
    pa.final_at = utcnow() - timedelta(days=rng.randint(1, 10))
