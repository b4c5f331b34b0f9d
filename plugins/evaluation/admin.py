"""Admin pages (menu 绩效评价): self-evaluations with the score screen, result application,
rectification tasks, coverage."""

from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from core.admin.base import ScopedModelView, ScopedPage
from core.admin.display import enum_label
from core.extensions import db
from core.forms import add_field_error
from core.models import FiscalYear, State, utcnow
from core.permissions import can
from core.scores import latest_score, trace_of
from core.scoring import grade_label
from core.workflow import ACTION_LABELS
from plugins.evaluation import service
from plugins.evaluation.coverage import coverage
from plugins.evaluation.models import (
    OBJECT_KIND_LABELS,
    Rectification,
    ResultSuggestion,
    SelfEvaluation,
)
from plugins.evaluation.rules import SUGGESTION_LABELS
from plugins.evaluation.sheet import COMPARATOR_SIGNS, EXECUTION, ROOT

CATEGORY = _l("Performance evaluation")
GRADES = (("achieved", _l("Achieved")), ("partly", _l("Partly achieved")),
          ("not_achieved", _l("Not achieved")))


def _year_arg() -> int:
    from core.widgets import current_year

    raw = request.values.get("year", "")
    if raw.isdigit():
        return int(raw)
    year = current_year()
    return year.year - 1 if year else date.today().year - 1


def _years() -> list[int]:
    return list(db.session.scalars(select(FiscalYear.year).order_by(FiscalYear.year.desc())))


def _grade(code: str | None) -> str:
    return str(grade_label(code)) if code else ""


class SelfEvaluationView(ScopedModelView):
    permission = "self_evaluation"
    can_create = False
    can_edit = False
    can_delete = False
    simple_list_pager = True
    column_list = ("budget_item", "org_unit", "fiscal_year", "object_kind", "state", "spent",
                   "score", "grade", "finalized_at")
    column_export_list = column_list
    column_searchable_list = ("budget_item.code", "budget_item.name")
    column_filters = ("state", "grade", "fiscal_year.year", "object_kind")
    column_sortable_list = ("score", "grade", "finalized_at")
    column_default_sort = ("id", True)
    list_template = "evaluation/self_list.html"
    column_labels = {
        "budget_item": _l("Budget item"), "org_unit": _l("Org unit"),
        "fiscal_year": _l("Fiscal year"), "object_kind": _l("Object"), "state": _l("State"),
        "spent": _l("Spent (yuan)"), "score": _l("Score"), "grade": _l("Grade"),
        "finalized_at": _l("Finalized"), "fiscal_year.year": _l("Fiscal year"),
        "budget_item.code": _l("Item code"), "budget_item.name": _l("Item name"),
    }
    column_formatters = {
        "budget_item": lambda v, c, m, n: Markup('<a href="{}">{}</a>').format(
            url_for(".score_page", id=m.id), str(m)),
        "grade": lambda v, c, m, n: _grade(m.grade),
        "object_kind": lambda v, c, m, n: OBJECT_KIND_LABELS.get(m.object_kind, m.object_kind),
    }

    def _evaluation(self) -> SelfEvaluation:
        ev = self.get_one(request.values.get("id", ""))
        if ev is None:
            abort(404)
        return ev

    @expose("/score/")
    def score_page(self):
        """The score screen: per indicator the target, the actual, the method and the points."""
        ev = self._evaluation()
        record = latest_score(db.session, ev, service.PURPOSE)
        nodes = dict(trace_of(record).lines()) if record is not None else {}
        rows = [(line, nodes.get(f"{line.level1}/{line.level2}/{line.name}"))
                for line in ev.lines]
        actions = service.WORKFLOW.allowed_actions(ev, current_user)
        editable = ev.finalized_at is None and State(ev.state) in service.EDITABLE \
            and can(current_user, "self_evaluation.edit")
        if not can(current_user, "self_evaluation.edit"):
            actions = []
        return self.render(
            "evaluation/score.html", ev=ev, rows=rows, execution=nodes.get(EXECUTION),
            record=record, root=ROOT, editable=editable, actions=actions,
            action_labels=ACTION_LABELS, state_label=enum_label(ev.state),
            grade_label=_grade(ev.grade), signs=COMPARATOR_SIGNS, grades=GRADES,
            history=service.WORKFLOW.history(ev))

    @expose("/actuals/", methods=("POST",))
    def actuals(self):
        ev = self._evaluation()
        if not can(current_user, "self_evaluation.edit"):
            abort(403)
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
            db.session.rollback()
            for problem in exc.problems:
                flash(str(problem.message), "error")
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
            db.session.rollback()
            for problem in exc.problems:
                flash(str(problem.message), "error")
        return redirect(url_for(".score_page", id=ev.id))

    @expose("/create-year/", methods=("POST",))
    def create_year(self):
        """Finance creates the missing self-evaluations of a year in one go."""
        if current_user.role_name != "finance_admin":
            abort(403)
        year = _year_arg()
        created = service.create_for_year(year)
        db.session.commit()
        flash(_("%(count)s self-evaluations created for %(year)s.", count=created, year=year),
              "success")
        return redirect(url_for(".index_view"))


class SuggestionView(ScopedModelView):
    """Result application (结果应用): finance accepts or changes the suggestion by grade."""

    permission = "evaluation_suggestion"
    can_create = False
    can_delete = False
    column_list = ("title", "org_unit", "fiscal_year", "score", "grade", "suggested", "decided",
                   "decided_at")
    column_filters = ("fiscal_year", "grade", "suggested", "decided")
    column_searchable_list = ("title",)
    column_default_sort = ("id", True)
    form_columns = ("decided", "note")
    form_choices = {"decided": [(k, v) for k, v in SUGGESTION_LABELS.items()]}
    column_labels = {
        "title": _l("Evaluated object"), "org_unit": _l("Org unit"),
        "fiscal_year": _l("Fiscal year"), "score": _l("Score"), "grade": _l("Grade"),
        "suggested": _l("Suggestion"), "decided": _l("Decision"), "note": _l("Note"),
        "decided_at": _l("Decided"),
    }
    column_formatters = {
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


class RectificationView(ScopedModelView):
    """Rectification tasks (整改): owner, deadline, evidence; the department reports it done."""

    permission = "rectification"
    column_list = ("suggestion", "problem", "owner", "due_on", "done_at", "overdue")
    column_default_sort = ("due_on", False)
    form_columns = ("suggestion", "problem", "owner", "due_on", "evidence", "done_at")
    form_ajax_refs = {"suggestion": {"fields": ("title",), "page_size": 20}}
    column_labels = {
        "suggestion": _l("Evaluation result"), "problem": _l("Problem to rectify"),
        "owner": _l("Owner"), "due_on": _l("Deadline"), "evidence": _l("Evidence"),
        "done_at": _l("Done"), "overdue": _l("Overdue"),
    }
    column_formatters = {
        "overdue": lambda v, c, m, n: _("Yes") if m.done_at is None and m.due_on is not None
        and m.due_on < date.today() else "",
    }

    def check_form(self, form) -> bool:
        if form.done_at.data and not (form.evidence.data or "").strip():
            return add_field_error(form.evidence, _l(
                "Attach or describe the evidence before marking the task done."))
        return True

    def on_model_change(self, form, model, is_created):
        model.org_unit_id = model.suggestion.org_unit_id
        if is_created:
            model.state, model.review_level = State.DRAFT, 0


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
    admin.add_view(SuggestionView(ResultSuggestion, db, name=_l("Result application"),
                                  category=CATEGORY, endpoint="evaluationsuggestion"))
    admin.add_view(RectificationView(Rectification, db, name=_l("Rectification tasks"),
                                     category=CATEGORY, endpoint="rectification"))
    admin.add_view(CoveragePage(name=_l("Self-evaluation coverage"), category=CATEGORY,
                                endpoint="evaluationcoverage", url="evaluation-coverage"))
