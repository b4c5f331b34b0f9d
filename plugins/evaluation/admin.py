"""Admin pages (menu 绩效评价): self-evaluations with the score screen, result application,
rectification tasks, coverage."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from urllib.parse import quote

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core.extensions import db
from core.models import STALE_RECORD, FiscalYear, OrgKind, State, utcnow
from core.permissions import ADMINS, can
from core.plugins import hooks
from core.services.score_records import latest_score, trace_of
from core.services.scoring import Problem, grade_label
from core.web.admin.base import ScopedModelView, ScopedPage
from core.web.admin.display import org_unit_column, org_unit_name
from core.web.admin.filters import department_filter, org_filters
from core.web.admin.review import OwnerEditsView
from core.web.admin.states import WorkflowStates
from core.web.background import confirm, start
from core.web.forms import add_field_error, flash_problems
from core.workflow import ACTION_LABELS
from plugins.evaluation import key, rectify, reeval, service
from plugins.evaluation.coverage import coverage
from plugins.evaluation.models import (
    OBJECT_KIND_LABELS,
    KeyEvaluation,
    Rectification,
    ReEvaluation,
    ResultSuggestion,
    SelfEvaluation,
)
from plugins.evaluation.rules import SUGGESTION_LABELS, reeval_gap
from plugins.evaluation.sheet import COMPARATOR_SIGNS, EXECUTION, ROOT, method_label

CATEGORY = _l("Performance evaluation")
GRADES = (("achieved", _l("Achieved")), ("partly", _l("Partly achieved")),
          ("not_achieved", _l("Not achieved")))


def _year_arg() -> int:
    from core.models import FiscalYear

    raw = request.values.get("year", "")
    if raw.isdigit():
        return int(raw)
    year = FiscalYear.current()
    return year.year - 1 if year else date.today().year - 1


def _years() -> list[int]:
    return list(db.session.scalars(select(FiscalYear.year).order_by(FiscalYear.year.desc())))


def _refused(exc: service.EvaluationError) -> None:
    """Nothing was saved: undo the transaction and show every problem (without its path)."""
    flash_problems(p.message for p in exc.problems)


def _formula(formula: str) -> str:
    """A stored formula as the score screen shows it: a qualitative level in words."""
    code, sep, rest = (formula or "").partition(": ")
    names = dict(GRADES)
    return f"{names[code]}: {rest}" if sep and code in names else formula or ""


def _grade(code: str | None) -> str:
    return str(grade_label(code)) if code else ""


SELF_STATES = WorkflowStates(SelfEvaluation, service.WORKFLOW, final="finalized_at")
#: only the finance bureau and the departments edit (and so submit) rectification tasks
RECTIFICATION_STATES = WorkflowStates(Rectification, rectify.WORKFLOW, submitters=ADMINS)


class SelfEvaluationView(OwnerEditsView, ScopedModelView):
    permission = "self_evaluation"
    review_workflow = service.WORKFLOW
    own_page = "score_page"
    can_create = False
    can_delete = False
    #: the edit form holds the public summary only; values are entered on the score page
    form_columns = ("summary",)
    simple_list_pager = True
    column_list = ("budget_item", "org_unit", "fiscal_year", "object_kind", "state", "spent",
                   "score", "grade", "finalized_at")
    column_export_list = column_list
    column_searchable_list = ("budget_item.code", "budget_item.name")
    column_filters = (SELF_STATES.filter(), "grade", "fiscal_year.year", "object_kind",
                      *org_filters(SelfEvaluation.org_unit_id))
    column_sortable_list = ("score", "grade", "finalized_at")
    column_default_sort = ("id", True)
    list_template = "evaluation/self_list.html"
    column_labels = {
        "budget_item": _l("Budget item"), "org_unit": _l("Org unit"),
        "fiscal_year": _l("Fiscal year"), "object_kind": _l("Object"), "state": _l("State"),
        "spent": _l("Spent (yuan)"), "score": _l("Score"), "grade": _l("Grade"),
        "finalized_at": _l("Finalized"), "fiscal_year.year": _l("Fiscal year"),
        "budget_item.code": _l("Item code"), "budget_item.name": _l("Item name"),
        "summary": _l("Public summary (findings and recommendations)"),
    }
    column_formatters = {
        "budget_item": lambda v, c, m, n: Markup('<a href="{}">{}</a>').format(
            url_for(".score_page", id=m.id), str(m)),
        "org_unit": org_unit_column,
        "state": SELF_STATES.column,
        "grade": lambda v, c, m, n: _grade(m.grade),
        "object_kind": lambda v, c, m, n: OBJECT_KIND_LABELS.get(m.object_kind, m.object_kind),
    }

    def on_model_change(self, form, model, is_created):
        service.check_editable(model, current_user)

    def _evaluation(self) -> SelfEvaluation:
        ev = self.get_one(request.values.get("id", ""))
        if ev is None:
            abort(404)
        return ev

    @expose("/score/")
    def score_page(self):
        """The score screen: per indicator the target, the actual, the method and the points."""
        ev = self._evaluation()
        trace = service.current_trace(ev)
        nodes = dict(trace.lines()) if trace is not None else {}
        rows = [(line, nodes.get(f"{line.level1}/{line.level2}/{line.name}"))
                for line in ev.lines]
        actions = service.WORKFLOW.allowed_actions(ev, current_user)
        editable = ev.finalized_at is None and self.may_change(ev) \
            and can(current_user, "self_evaluation.edit")
        if not can(current_user, "self_evaluation.edit"):
            actions = []
        return self.render(
            "evaluation/score.html", ev=ev, rows=rows, execution=nodes.get(EXECUTION),
            execution_na=service.execution_not_applicable(ev),
            root=ROOT, editable=editable, actions=actions,
            action_labels=ACTION_LABELS, state_label=SELF_STATES.text(ev),
            grade_label=_grade(ev.grade), signs=COMPARATOR_SIGNS, grades=GRADES,
            grade_names=dict(GRADES), method_label=method_label, formula=_formula,
            history=service.WORKFLOW.history(ev))

    @expose("/actuals/", methods=("POST",))
    def actuals(self):
        ev = self._evaluation()
        if not can(current_user, "self_evaluation.edit"):
            abort(403)
        if request.form.get("version", str(ev.version)) != str(ev.version):
            flash(str(STALE_RECORD), "error")
            return redirect(url_for(".score_page", id=ev.id))
        values = {}
        for line in ev.lines:
            entered = {"explanation": request.form.get(f"explanation_{line.id}", "")}
            if line.comparator == "qualitative":
                entered["grade"] = request.form.get(f"grade_{line.id}") or None
                entered["ratio"] = request.form.get(f"ratio_{line.id}") or None
            else:
                entered["actual"] = request.form.get(f"actual_{line.id}", "")
            values[line.id] = entered
        try:
            service.save_actuals(ev, request.form.get("spent", ""), values,
                                 request.form.get("summary"), current_user)
            db.session.commit()
            flash(_("Saved and scored."), "success")
        except service.EvaluationError as exc:
            _refused(exc)
        return redirect(url_for(".score_page", id=ev.id))

    @expose("/workflow/", methods=("POST",))
    def workflow(self):
        ev = self._evaluation()
        if not can(current_user, "self_evaluation.edit"):
            abort(403)
        action = request.form.get("action", "")
        try:
            service.transition(ev, action, current_user, request.form.get("comment", ""))
            db.session.commit()
            flash(_("Done: %(action)s.", action=ACTION_LABELS.get(action, action)), "success")
        except service.EvaluationError as exc:
            _refused(exc)
        return redirect(url_for(".score_page", id=ev.id))

    @expose("/create-year/", methods=("GET", "POST"))
    def create_year(self):
        """Finance creates the missing self-evaluations of a year in one go (a background job,
        after a page that says how many)."""
        if current_user.role_name != "finance_admin":
            abort(403)
        year = _year_arg()
        back = url_for(".index_view")
        if request.method == "GET":
            count = len(service.missing(year)[1])
            return confirm(self, _("Create the self-evaluations of %(year)s", year=year),
                           [_("create %(count)s self-evaluations, one for each budget item of "
                              "%(year)s with approved targets and none yet", count=count,
                              year=year)],
                           back=back, allowed=count > 0, year=year)
        return start("evaluation.create_year",
                     _("Create the self-evaluations of %(year)s", year=year),
                     service.create_year_job, {"year": year}, back=back)


class SuggestionView(ScopedModelView):
    """Result application (结果应用): finance accepts or changes the suggestion by grade."""

    permission = "evaluation_suggestion"
    can_create = False
    can_delete = False
    column_list = ("title", "org_unit", "fiscal_year", "score", "grade", "suggested", "decided",
                   "decided_at")
    column_filters = ("fiscal_year", "grade", "suggested", "decided",
                      *org_filters(ResultSuggestion.org_unit_id))
    column_searchable_list = ("title",)
    column_default_sort = ("id", True)
    form_columns = ("decided", "note")
    form_choices = {"decided": [(k, v) for k, v in SUGGESTION_LABELS.items()]}
    column_labels = {
        "title": _l("Evaluated object"), "org_unit": _l("Org unit"),
        "fiscal_year": _l("Fiscal year"), "score": _l("Score"), "grade": _l("Grade"),
        "suggested": _l("Suggestion"), "decided": _l("Finance decision"), "note": _l("Note"),
        "decided_at": _l("Decided"),
    }
    column_formatters = {
        "org_unit": org_unit_column,
        "grade": lambda v, c, m, n: _grade(m.grade),
        "suggested": lambda v, c, m, n: SUGGESTION_LABELS.get(m.suggested, m.suggested),
        "decided": lambda v, c, m, n: SUGGESTION_LABELS.get(m.decided, m.decided or ""),
    }

    def check_form(self, form) -> bool:
        if not form.decided.data:
            return add_field_error(form.decided, _l("Choose a decision."))
        return True

    def on_model_change(self, form, model, is_created):
        model.decided_at = utcnow()


class RectificationView(OwnerEditsView, ScopedModelView):
    """Rectification tasks (整改): owner, deadline, evidence; the department reports the task
    done with its evidence, finance accepts it or sends it back (core workflow)."""

    permission = "rectification"
    review_workflow = rectify.WORKFLOW
    own_page = "follow_up"
    column_list = ("suggestion", "problem", "owner", "due_on", "state", "done_at", "overdue")
    column_filters = (RECTIFICATION_STATES.filter(), "due_on",
                      *org_filters(Rectification.org_unit_id))
    column_default_sort = ("due_on", False)
    form_columns = ("suggestion", "problem", "owner", "due_on", "evidence")
    form_ajax_refs = {"suggestion": {"fields": ("title",), "page_size": 20}}
    column_labels = {
        "suggestion": _l("Evaluation result"), "problem": _l("Problem to rectify"),
        "owner": _l("Owner"), "due_on": _l("Deadline"), "evidence": _l("Evidence"),
        "done_at": _l("Finished at"), "overdue": _l("Overdue"), "state": _l("State"),
    }
    column_formatters = {
        "problem": lambda v, c, m, n: Markup('<a href="{}">{}</a>').format(
            url_for(".follow_up", id=m.id), m.problem),
        "overdue": lambda v, c, m, n: _("Yes") if rectify.overdue(m) else "",
        "state": RECTIFICATION_STATES.column,
    }

    def on_model_change(self, form, model, is_created):
        model.org_unit_id = model.suggestion.org_unit_id
        if is_created:
            model.state, model.review_level = State.DRAFT, 0
        rectify.check_editable(model, current_user)

    def _task(self) -> Rectification:
        task = self.get_one(request.values.get("id", ""))
        if task is None:
            abort(404)
        return task

    @expose("/follow-up/", methods=("GET", "POST"))
    def follow_up(self):
        task = self._task()
        if request.method == "POST":
            if not can(current_user, "rectification.edit"):
                abort(403)
            action = request.form.get("action", "")
            try:
                rectify.transition(task, action, current_user, request.form.get("comment", ""))
                db.session.commit()
                flash(_("Done: %(action)s.", action=ACTION_LABELS.get(action, action)),
                      "success")
            except service.EvaluationError as exc:
                _refused(exc)
            return redirect(url_for(".follow_up", id=task.id))
        actions = rectify.WORKFLOW.allowed_actions(task, current_user) \
            if can(current_user, "rectification.edit") else []
        return self.render("evaluation/rectification.html", task=task,
                           actions=[a for a in actions if a != "reopen"],
                           action_labels=ACTION_LABELS, state_label=RECTIFICATION_STATES.text(task),
                           overdue=rectify.overdue(task),
                           history=rectify.WORKFLOW.history(task))


class CoveragePage(ScopedPage):
    permission = "evaluation_report"

    @expose("/")
    def index(self):
        year = _year_arg()
        lines, total = coverage(year)
        return self.render("evaluation/coverage.html", lines=lines, total=total, year=year,
                           years=_years())


def register(admin, db) -> None:
    admin.add_view(SelfEvaluationView(SelfEvaluation, db, name=_l("Self-evaluations"),
                                      category=CATEGORY, endpoint="selfevaluation"))
    register_more(admin)
    admin.add_view(SuggestionView(ResultSuggestion, db, name=_l("Result application"),
                                  category=CATEGORY, endpoint="evaluationsuggestion"))
    admin.add_view(RectificationView(Rectification, db, name=_l("Rectification tasks"),
                                     category=CATEGORY, endpoint="rectification"))
    admin.add_view(CoveragePage(name=_l("Self-evaluation coverage"), category=CATEGORY,
                                endpoint="evaluationcoverage", url="evaluation-coverage"))


TEAM_LABELS = {"finance": _l("Finance staff"), "experts": _l("Experts"),
               "agency": _l("Commissioned agency")}
KIND_LABELS = {"department_key": _l("Department key evaluation"),
               "finance_key": _l("Finance key evaluation")}


class KeyEvaluationView(ScopedModelView):
    """Key evaluations (重点评价): set up here, scored and reported on the sheet page."""

    permission = "key_evaluation"
    own_page = "sheet_page"
    can_delete = False
    column_list = ("title", "kind", "object_kind", "org_unit", "fiscal_year", "amount",
                   "team_kind", "score", "grade", "finalized_at")
    column_filters = ("kind", "object_kind", "fiscal_year.year", "grade",
                      *org_filters(KeyEvaluation.org_unit_id))
    column_searchable_list = ("title",)
    column_default_sort = ("id", True)
    form_columns = ("kind", "object_kind", "fiscal_year", "org_unit", "title", "items",
                    "after_period", "team_kind", "team", "engagement_id", "findings",
                    "problems", "recommendations")
    form_choices = {"kind": list(KIND_LABELS.items()),
                    "object_kind": list(OBJECT_KIND_LABELS.items()),
                    "team_kind": list(TEAM_LABELS.items())}
    form_ajax_refs = {"items": {"fields": ("code", "name"), "page_size": 20}}
    column_labels = {
        "title": _l("Title"), "kind": _l("Kind"), "object_kind": _l("Object"),
        "org_unit": _l("Evaluated department or unit"), "fiscal_year": _l("Fiscal year"),
        "amount": _l("Evaluated expenditure (yuan)"), "team_kind": _l("Evaluation team"),
        "team": _l("Team members"), "engagement_id": _l("Agency engagement number"),
        "items": _l("Budget items"), "after_period": _l("After the implementation period"),
        "findings": _l("Findings"), "problems": _l("Problems"),
        "recommendations": _l("Recommendations"), "score": _l("Score"), "grade": _l("Grade"),
        "finalized_at": _l("Finalized"), "fiscal_year.year": _l("Fiscal year"),
    }
    column_formatters = {
        "title": lambda v, c, m, n: Markup('<a href="{}">{}</a>').format(
            url_for(".sheet_page", id=m.id), m.title),
        "kind": lambda v, c, m, n: KIND_LABELS.get(m.kind, m.kind),
        "object_kind": lambda v, c, m, n: OBJECT_KIND_LABELS.get(m.object_kind, m.object_kind),
        "org_unit": org_unit_column,
        "team_kind": lambda v, c, m, n: TEAM_LABELS.get(m.team_kind, m.team_kind),
        "grade": lambda v, c, m, n: _grade(m.grade),
    }

    def _may_run(self, kind: str) -> bool:
        return current_user.role_name in (key.owner_role(kind), "finance_admin")

    def check_form(self, form) -> bool:
        kind = form.kind.data
        if kind == "finance_key" and current_user.role_name != "finance_admin":
            return add_field_error(form.kind, _l(
                "Only the finance bureau runs finance key evaluations."))
        probe = KeyEvaluation(kind=kind, object_kind=form.object_kind.data,
                              team_kind=form.team_kind.data,
                              engagement_id=form.engagement_id.data,
                              fiscal_year_id=form.fiscal_year.data.id
                              if form.fiscal_year.data else None)
        ok = True
        for problem in key.check_setup(probe, [i.id for i in form.items.data or []]):
            ok = add_field_error(getattr(form, problem.path), problem.message)
        return ok

    def on_model_change(self, form, model, is_created):
        key.check_open(model)
        if is_created:
            model.rule_code = ""
            key.build_sheet(model)
        else:
            model.amount = sum((i.amount for i in model.items), Decimal("0.00"))

    def _evaluation(self) -> KeyEvaluation:
        ev = self.get_one(request.values.get("id", ""))
        if ev is None:
            abort(404)
        return ev

    @expose("/sheet/")
    def sheet_page(self):
        ev = self._evaluation()
        record = latest_score(db.session, ev, key.PURPOSE)
        nodes = dict(trace_of(record).lines()) if record is not None else {}
        rows = [(ind, nodes.get(f"{ind.level1}/{ind.level2}/{ind.name}"))
                for ind in ev.indicators]
        editable = ev.finalized_at is None and can(current_user, "key_evaluation.edit") \
            and self._may_run(ev.kind)
        engagement = None
        if ev.engagement_id:
            found = hooks().engagements(ids=[ev.engagement_id])
            engagement = found[0] if found else None
        return self.render("evaluation/key_sheet.html", ev=ev, rows=rows, editable=editable,
                           grade_label=_grade(ev.grade), kind_label=KIND_LABELS.get(ev.kind),
                           team_label=TEAM_LABELS.get(ev.team_kind), engagement=engagement,
                           object_label=OBJECT_KIND_LABELS.get(ev.object_kind))

    @expose("/scores/", methods=("POST",))
    def scores(self):
        ev = self._evaluation()
        if not can(current_user, "key_evaluation.edit") or not self._may_run(ev.kind):
            abort(403)
        values = {ind.id: {"weight": request.form.get(f"weight_{ind.id}"),
                           "scores": request.form.get(f"scores_{ind.id}", "")}
                  for ind in ev.indicators}
        try:
            key.save_sheet(ev, values)
            db.session.commit()
            flash(_("Saved."), "success")
        except service.EvaluationError as exc:
            _refused(exc)
        return redirect(url_for(".sheet_page", id=ev.id))

    @expose("/finalize/", methods=("POST",))
    def finalize(self):
        ev = self._evaluation()
        if not can(current_user, "key_evaluation.edit") or not self._may_run(ev.kind):
            abort(403)
        try:
            key.finalize(ev, current_user)
            db.session.commit()
            flash(_("The key evaluation is final."), "success")
        except service.EvaluationError as exc:
            _refused(exc)
        return redirect(url_for(".sheet_page", id=ev.id))

    @expose("/report/")
    def report(self):
        """The evaluation report: HTML, or a Word-compatible .doc with ``?format=doc``."""
        ev = self._evaluation()
        record = latest_score(db.session, ev, key.PURPOSE)
        lines = trace_of(record).lines() if record is not None else []
        html = render_template("evaluation/key_report.html", ev=ev, lines=lines,
                               grade_label=_grade(ev.grade),
                               kind_label=KIND_LABELS.get(ev.kind),
                               team_label=TEAM_LABELS.get(ev.team_kind),
                               object_label=OBJECT_KIND_LABELS.get(ev.object_kind))
        if request.args.get("format") == "doc":
            response = Response(html, mimetype="application/msword")
            name = quote(f"{ev.title}绩效评价报告.doc")
            response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{name}"
            return response
        return html


class ReEvaluationView(ScopedModelView):
    """Re-evaluations (再评价): finance samples a department's self-evaluations and re-scores."""

    permission = "re_evaluation"
    can_delete = False
    column_list = ("org_unit", "fiscal_year", "sample_size", "flagged", "accuracy",
                   "finalized_at")
    column_default_sort = ("id", True)
    column_filters = (department_filter(ReEvaluation.org_unit_id),)
    form_columns = ("fiscal_year", "org_unit", "sample_size")
    column_labels = {
        "org_unit": _l("Department"), "fiscal_year": _l("Fiscal year"),
        "sample_size": _l("Sample size"), "accuracy": _l("Accuracy (%)"),
        "flagged": _l("Flagged differences"), "finalized_at": _l("Finished at"),
    }
    column_formatters = {
        "org_unit": lambda v, c, m, n: Markup('<a href="{}">{}</a>').format(
            url_for(".compare_page", id=m.id), org_unit_name(m.org_unit_id)),
        "flagged": lambda v, c, m, n: sum(1 for s in m.samples if s.flagged),
    }
    list_options = (selectinload(ReEvaluation.samples),)

    def check_form(self, form) -> bool:
        org = form.org_unit.data
        if org is not None and org.kind not in (OrgKind.DEPARTMENT, OrgKind.TOWN):
            return add_field_error(form.org_unit, _l("Choose a department or a town."))
        return True

    def on_model_change(self, form, model, is_created):
        """A new sample for a new re-evaluation, or a changed size before any re-scoring."""
        if model.finalized_at is not None or any(s.score is not None for s in model.samples):
            raise service.EvaluationError(Problem("sample_size", _l(
                "The sample cannot change once re-scoring has started.")))
        reeval.draw_sample(model)

    def _re(self) -> ReEvaluation:
        re = self.get_one(request.values.get("id", ""))
        if re is None:
            abort(404)
        return re

    @expose("/compare/")
    def compare_page(self):
        """Self score vs re-evaluated score per item, the flags and the department's accuracy."""
        re = self._re()
        editable = re.finalized_at is None and can(current_user, "re_evaluation.edit")
        return self.render("evaluation/reeval.html", re=re, editable=editable,
                           gap=reeval_gap(), grade=_grade, signs=COMPARATOR_SIGNS)

    @expose("/rescore/", methods=("POST",))
    def rescore(self):
        re = self._re()
        if not can(current_user, "re_evaluation.edit"):
            abort(403)
        sample = next((s for s in re.samples
                       if str(s.id) == request.form.get("sample_id", "")), None)
        if sample is None:
            abort(404)
        lines = {}
        for line in sample.self_evaluation.lines:
            entered = {k: request.form.get(f"{k}_{line.position}")
                       for k in ("actual", "grade", "ratio")}
            lines[str(line.position)] = {k: v for k, v in entered.items() if v}
        corrections = {"spent": request.form.get("spent", ""), "lines": lines}
        try:
            reeval.rescore(sample, corrections, request.form.get("note", ""), current_user)
            db.session.commit()
            flash(_("Re-scored."), "success")
        except service.EvaluationError as exc:
            _refused(exc)
        return redirect(url_for(".compare_page", id=re.id))

    @expose("/finish/", methods=("POST",))
    def finish(self):
        re = self._re()
        if not can(current_user, "re_evaluation.edit"):
            abort(403)
        try:
            reeval.finish(re, current_user)
            db.session.commit()
            flash(_("The re-evaluation is finished."), "success")
        except service.EvaluationError as exc:
            _refused(exc)
        return redirect(url_for(".compare_page", id=re.id))


def register_more(admin) -> None:
    admin.add_view(KeyEvaluationView(KeyEvaluation, db, name=_l("Key evaluations"),
                                     category=CATEGORY, endpoint="keyevaluation"))
    admin.add_view(ReEvaluationView(ReEvaluation, db, name=_l("Re-evaluations"),
                                    category=CATEGORY, endpoint="reevaluation"))
