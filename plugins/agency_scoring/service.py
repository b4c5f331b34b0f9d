"""Assessing engagements: opening, scoring (party and spot-check), vetoes, appeals.

Every rule refuses bad input with ``AssessmentError`` (all problems at once,
by field) before anything is written; the caller commits or rolls back.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from core import contracts
from core.extensions import db
from core.models import utcnow
from core.plugins import hooks
from core.scope import unscoped
from core.services.score_records import save_score
from core.services.scoring import CONTEXT, ScoringError, hook_resolver, score
from plugins.agency_scoring.models import (
    Appeal,
    AppealStatus,
    Assessment,
    AssessmentStatus,
    Restriction,
    RestrictionKind,
)
from plugins.agency_scoring.rules import (
    STAFFING,
    TIMELINESS,
    AgencyScoringRules,
    SheetItem,
    find_rules,
    rules_for_year,
    sheet_tree,
)

PARTY, SPOT = "party", "spot_check"
PURPOSES = {PARTY: "agency_assessment", SPOT: "agency_spot_check"}


class AssessmentError(ValueError):
    def __init__(self, problems: dict[str, list[str]]):
        super().__init__("; ".join(m for ms in problems.values() for m in ms))
        self.problems = problems

    def lines(self) -> list[str]:
        """Each problem as "field: message", for the user."""
        return [f"{field}: {message}" for field, messages in self.problems.items()
                for message in messages]


def _fail(field: str, message: str):
    raise AssessmentError({field: [message]})


# --- opening ------------------------------------------------------------------------------

def evidence(view: contracts.EngagementView) -> dict[str, Any]:
    """What the agency portal recorded, for the indicators it concerns.

    Timeliness: the last deliverable upload against the end date (days late;
    no deliverable counts as late until the engagement closed). Staffing: the
    contracted team, and who of them logged hours (logs by anyone else too).
    """
    last = max((d.uploaded_at for d in view.deliverables), default=None)
    delivered = last.date() if last else (view.closed_at.date() if view.closed_at else None)
    days_late = max((delivered - view.end_on).days, 0) if delivered else 0
    team = {s.id: s.name for s in view.team}
    logged = {sid: str(h) for sid, h in view.logged_hours.items() if h > 0}
    return {
        TIMELINESS: {"end_on": view.end_on.isoformat(),
                     "delivered_on": delivered.isoformat() if delivered else None,
                     "deliverables": [{"filename": d.filename,
                                       "uploaded_at": d.uploaded_at.isoformat(timespec="minutes")}
                                      for d in view.deliverables],
                     "days_late": days_late},
        STAFFING: {"team": [{"id": sid, "name": name, "hours": logged.get(sid, "0")}
                            for sid, name in team.items()],
                   "contracted": len(team),
                   "worked": sum(1 for sid in team if sid in logged),
                   "others": sorted(sid for sid in logged if sid not in team)},
    }


def open_assessment(engagement_id: int) -> Assessment | None:
    """Open the assessment of a closed engagement (once; None if it is not closed)."""
    views = hooks().engagements(ids=[engagement_id])
    return open_from(views[0]) if views else None


def open_from(view: contracts.EngagementView) -> Assessment | None:
    """``open_assessment`` of the engagement ``view`` (as ``jixiao_engagement_closed`` gives it)."""
    if view.closed_at is None:
        return None
    existing = db.session.scalar(select(Assessment).where(Assessment.engagement_id == view.id))
    if existing is not None:
        return existing
    rules = rules_for_year(view.end_on.year)
    assessment = Assessment(
        engagement_id=view.id, agency_id=view.agency_id, agency_name=view.agency_name,
        code=view.code, title=view.title, contract_amount=view.contract_amount,
        end_on=view.end_on, closed_at=view.closed_at, year=view.end_on.year,
        org_unit_id=view.org_unit_id, rule_code=rules.code, evidence=evidence(view),
        status=AssessmentStatus.OPEN, vetoes=[])
    db.session.add(assessment)
    db.session.flush()
    return assessment


def open_for(engagement_id: int) -> Assessment:
    """Open the assessment of an engagement the caller may see (e.g. one closed before
    this plugin was enabled); refused unless it is closed and not yet assessed."""
    views = hooks().engagements(ids=[engagement_id])
    if not views:
        _fail("engagement_id", _("Unknown engagement."))
    if views[0].closed_at is None:
        _fail("engagement_id", _("Engagement %(code)s is not closed; it can be assessed once "
                                 "it is closed.", code=views[0].code))
    # one assessment per engagement, for its commissioning party, whose scope the caller
    # (who may see the engagement through its assessed items only) need not share
    with unscoped() as session:
        if session.scalar(select(Assessment.id).where(
                Assessment.engagement_id == engagement_id)) is not None:
            _fail("engagement_id", _("Engagement %(code)s already has an assessment.",
                                     code=views[0].code))
        return open_from(views[0])


def rules_of(assessment: Assessment) -> AgencyScoringRules:
    """The version the assessment was opened under (the year's, if it is no longer configured)."""
    return find_rules(assessment.rule_code) or rules_for_year(assessment.year)


def suggested_inputs(assessment: Assessment, items: tuple[SheetItem, ...]) -> dict[str, dict]:
    """Inputs filled from the evidence (the scorer may change them)."""
    out: dict[str, dict] = {}
    ev = assessment.evidence or {}
    for item in items:
        if item.evidence == TIMELINESS and TIMELINESS in ev:
            out[item.path] = {"defects": ev[TIMELINESS]["days_late"]}
        elif item.evidence == STAFFING and ev.get(STAFFING, {}).get("contracted"):
            out[item.path] = {"target": ev[STAFFING]["contracted"],
                              "actual": ev[STAFFING]["worked"]}
    return out


# --- scoring ------------------------------------------------------------------------------

def _clean_inputs(items: tuple[SheetItem, ...], raw: dict[str, Any],
                  problems: dict[str, list[str]]) -> dict[str, dict]:
    """Per path, the inputs the item's method takes; numbers stay exact strings."""
    out: dict[str, dict] = {}
    for item in items:
        given = raw.get(item.path)
        if not isinstance(given, dict):
            problems.setdefault(item.path, []).append(_("Give a score for this indicator."))
            continue
        clean: dict[str, Any] = {}
        for key, value in given.items():
            if value in (None, ""):
                continue
            if isinstance(value, float):
                problems.setdefault(item.path, []).append(
                    _("Send numbers as strings, not floats."))
                continue
            clean[key] = value if key == "level" else _number(value, item.path, problems)
        if item.method == "deduction" and "defects" in clean:
            defects = Decimal(clean["defects"])
            if defects == defects.to_integral_value():
                clean["defects"] = int(defects)
        out[item.path] = clean
    return out


def _number(value: Any, path: str, problems: dict[str, list[str]]) -> str:
    try:
        number = Decimal(str(value).strip())
        if not number.is_finite():
            raise InvalidOperation
        return str(number)
    except (InvalidOperation, ValueError):
        problems.setdefault(path, []).append(_("“%(value)s” is not a number.", value=value))
        return "0"


def _check_range(items: tuple[SheetItem, ...], inputs: dict[str, dict], rules,
                 problems: dict[str, list[str]]) -> None:
    """Refuse a value outside what the indicator allows, naming the allowed range."""
    for item in items:
        given = inputs.get(item.path) or {}
        if item.method == "qualitative" and "level" in given:
            scale = rules.scoring.qualitative_scales.get(item.params.get("scale", ""), ())
            levels = {lv.code: lv for lv in scale}
            level = levels.get(str(given["level"]))
            if level is None:
                problems.setdefault(item.path, []).append(_(
                    "Grade: choose one of %(levels)s.", levels=", ".join(levels)))
            elif "percent" in given and not (level.lower <= Decimal(given["percent"])
                                             <= level.upper):
                problems.setdefault(item.path, []).append(_(
                    "Percent: grade %(level)s allows %(low)s to %(high)s.", level=level.code,
                    low=level.lower, high=level.upper))
        if item.method == "deduction" and "defects" in given:
            defects = given["defects"]
            if not isinstance(defects, int) or defects < 0:
                problems.setdefault(item.path, []).append(
                    _("Deductions: enter a whole number of at least 0."))
        if item.method == "proportional" and "actual" in given:
            target = Decimal(str(given.get("target", "0")))
            if not Decimal(0) <= Decimal(str(given["actual"])) <= max(target, Decimal(0)):
                problems.setdefault(item.path, []).append(_(
                    "Actual: enter 0 to %(target)s.", target=target))


def score_sheet(rules: AgencyScoringRules, items: tuple[SheetItem, ...], name: str,
                raw: dict[str, Any], vetoes: list[str]):
    """The engine's trace of a sheet; ``AssessmentError`` with every problem by path."""
    problems: dict[str, list[str]] = {}
    inputs = _clean_inputs(items, raw, problems)
    _check_range(items, inputs, rules, problems)
    unknown = [v for v in vetoes if v not in rules.vetoes]
    if unknown:
        problems.setdefault("vetoes", []).append(
            _("Unknown veto items: %(codes)s.", codes=", ".join(unknown)))
    if problems:
        raise AssessmentError(problems)
    try:
        return score(sheet_tree(name, items, inputs), rules.scoring, hook_resolver(current_app))
    except ScoringError as exc:
        found: dict[str, list[str]] = {}
        for p in exc.problems:  # the engine's path ends with the input's name
            path = next((i.path for i in items if (p.path or "").startswith(i.path)), "sheet")
            found.setdefault(path, []).append(str(p.message))
        raise AssessmentError(found) from None


def _combine(assessment: Assessment, rules: AgencyScoringRules) -> None:
    """The engagement score: party and spot-check by the rule's weights; a veto → lowest grade."""
    if assessment.party_total is None:
        return
    if assessment.spot_total is None:
        total = assessment.party_total
    else:
        total = CONTEXT.divide(assessment.party_total * rules.party_weight
                               + assessment.spot_total * rules.spot_weight,
                               rules.party_weight + rules.spot_weight)
    assessment.score = rules.scoring.quantize(total)
    assessment.grade = rules.lowest_grade if assessment.vetoes \
        else rules.scoring.grade(assessment.score).code
    assessment.status = AssessmentStatus.SCORED
    assessment.appeal_until = date.today() + timedelta(days=rules.appeal_days)


def record_score(assessment: Assessment, who: str, raw: dict[str, Any], vetoes: list[str],
                 user) -> None:
    """The commissioning party's (``PARTY``) or the bureau's spot-check (``SPOT``) score.

    Each is given once; indicators with portal evidence that the scorer leaves out
    are scored from it; a veto item excludes the agency (and adds a credit record).
    """
    rules = rules_of(assessment)
    if who == PARTY and assessment.party_total is not None:
        _fail("assessment", _("The commissioning party has already scored this engagement."))
    if who == SPOT:
        if assessment.party_total is None:
            _fail("assessment", _("The spot-check can be added once the commissioning party "
                                  "has scored."))
        if assessment.spot_total is not None:
            _fail("assessment", _("This engagement has already been spot-checked."))
    if _rating_published(assessment):
        _fail("assessment", _("The %(year)s rating of this agency is published; its "
                              "assessments can no longer change.", year=assessment.year))
    items = rules.sheet if who == PARTY else rules.spot_sheet
    # timeliness and staffing are scored from the portal's records unless the scorer says otherwise
    raw = {**suggested_inputs(assessment, items), **raw}
    trace = score_sheet(rules, items, "考核" if who == PARTY else "抽查", raw, vetoes)
    record = save_score(db.session, assessment, trace, purpose=PURPOSES[who],
                        org_unit_id=assessment.org_unit_id, user=user)
    now = utcnow()
    if who == PARTY:
        assessment.party_total, assessment.party_record_id = trace.total, record.id
        assessment.party_by_id, assessment.party_at = getattr(user, "id", None), now
    else:
        assessment.spot_total, assessment.spot_record_id = trace.total, record.id
        assessment.spot_by_id, assessment.spot_at = getattr(user, "id", None), now
    new_vetoes = [v for v in vetoes if v not in (assessment.vetoes or [])]
    assessment.vetoes = [*(assessment.vetoes or []), *new_vetoes]
    _combine(assessment, rules)
    if new_vetoes:
        _veto_consequences(assessment, rules, new_vetoes)
    db.session.flush()


def _veto_consequences(assessment: Assessment, rules: AgencyScoringRules,
                       codes: list[str]) -> None:
    names = "、".join(rules.vetoes[c] for c in codes)
    reason = _("Veto in the assessment of %(code)s: %(items)s", code=assessment.code,
               items=names)
    today = date.today()
    end = _years_after(today, rules.veto_exclusion_years) - timedelta(days=1)
    db.session.add_all([
        Restriction(agency_id=assessment.agency_id, agency_name=assessment.agency_name,
                    kind=RestrictionKind.EXCLUSION, reason=reason, start_on=today,
                    end_on=end, source=f"assessment:{assessment.id}"),
        Restriction(agency_id=assessment.agency_id, agency_name=assessment.agency_name,
                    kind=RestrictionKind.CREDIT_RECORD, reason=reason, start_on=today,
                    end_on=None, source=f"assessment:{assessment.id}")])


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _rating_published(assessment: Assessment) -> bool:
    from plugins.agency_scoring.models import Rating, RatingStatus

    return db.session.scalar(select(Rating.id).where(
        Rating.agency_id == assessment.agency_id, Rating.year == assessment.year,
        Rating.status == RatingStatus.PUBLISHED)) is not None


# --- appeals ------------------------------------------------------------------------------

def file_appeal(assessment: Assessment, reason: str, user, today: date | None = None) -> Appeal:
    """The agency appeals its score within the rule's number of days (once per assessment)."""
    today = today or date.today()
    reason = (reason or "").strip()
    if not reason:
        _fail("reason", _("Reason: say why the score is wrong."))
    if assessment.score is None:
        _fail("assessment", _("There is no score to appeal yet."))
    if assessment.appeal_until is None or today > assessment.appeal_until:
        _fail("assessment", _("The appeal period ended on %(day)s.",
                              day=assessment.appeal_until))
    if db.session.scalar(select(Appeal.id).where(Appeal.assessment_id == assessment.id)):
        _fail("assessment", _("This assessment has already been appealed."))
    if _rating_published(assessment):
        _fail("assessment", _("The %(year)s rating of this agency is published; its "
                              "assessments can no longer change.", year=assessment.year))
    appeal = Appeal(assessment_id=assessment.id, agency_id=assessment.agency_id,
                    org_unit_id=assessment.org_unit_id, reason=reason,
                    filed_by_id=getattr(user, "id", None), score_before=assessment.score,
                    grade_before=assessment.grade, status=AppealStatus.PENDING)
    db.session.add(appeal)
    db.session.flush()
    return appeal


def decide_appeal(appeal: Appeal, uphold: bool, new_score: Any, decision: str, user) -> None:
    """Finance decides: reject (the score stands) or uphold with the corrected score."""
    if appeal.status != AppealStatus.PENDING:
        _fail("appeal", _("This appeal has already been decided."))
    decision = (decision or "").strip()
    if not decision:
        _fail("decision", _("Decision: give the reasons."))
    assessment = db.session.get(Assessment, appeal.assessment_id)
    if _rating_published(assessment):
        _fail("appeal", _("The %(year)s rating of this agency is published; its "
                          "assessments can no longer change.", year=assessment.year))
    rules = rules_of(assessment)
    if uphold:
        problems: dict[str, list[str]] = {}
        value = Decimal(_number(new_score, "score", problems)) if new_score not in (None, "") \
            else None
        if value is None:
            problems.setdefault("score", []).append(_("Score: enter the corrected score."))
        elif not Decimal(0) <= value <= rules.scoring.total_weight \
                or value != rules.scoring.quantize(value):
            problems.setdefault("score", []).append(_(
                "Score: enter 0 to %(max)s with at most two decimal places.",
                max=rules.scoring.total_weight))
        if problems:
            raise AssessmentError(problems)
        assessment.score = value
        assessment.grade = rules.lowest_grade if assessment.vetoes \
            else rules.scoring.grade(value).code
    appeal.status = AppealStatus.UPHELD if uphold else AppealStatus.REJECTED
    appeal.score_after, appeal.grade_after = assessment.score, assessment.grade
    appeal.decision, appeal.decided_at = decision, utcnow()
    appeal.decided_by_id = getattr(user, "id", None)
    db.session.flush()


def veto_names(assessment: Assessment) -> list[str]:
    rules = rules_of(assessment)
    return [rules.vetoes.get(c, c) for c in assessment.vetoes or []]
