"""Admin pages: publications (prepare, submit, publish), stored results, the disclosure check."""

from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core.extensions import db
from core.models import FiscalYear, ItemKind, State
from core.permissions import can
from core.web.admin.base import ScopedModelView, ScopedPage
from core.web.admin.display import org_unit_name
from core.web.admin.filters import org_filters
from core.web.admin.review import OwnerEditsView
from core.web.admin.states import WorkflowStates
from core.web.background import confirm, start
from core.web.forms import add_field_error
from core.workflow import ACTION_LABELS, WorkflowError
from plugins.disclosure import service
from plugins.disclosure.models import (
    EVALUATION_KIND_LABELS,
    GRADE_LABELS,
    KIND_LABELS,
    Publication,
    PublicationKind,
    StoredResult,
)
from plugins.disclosure.rules import rules_for_year

CATEGORY = _l("Disclosure")


def _year_arg() -> int:
    from core.models import FiscalYear

    raw = request.values.get("year", "")
    if raw:
        if not raw.isdigit():
            abort(400)
        return int(raw)
    year = FiscalYear.current()
    return year.year if year else date.today().year


def _years() -> list[int]:
    return list(db.session.scalars(select(FiscalYear.year).order_by(FiscalYear.year.desc())))


STATES = WorkflowStates(Publication, service.WORKFLOW)


class PublicationView(OwnerEditsView, ScopedModelView):
    permission = "publication"
    review_workflow = service.WORKFLOW
    own_page = "review"
    column_list = ("subject", "kind", "fiscal_year", "department", "state", "published_at")
    column_details_list = ("subject", "kind", "fiscal_year", "department", "state",
                           "published_at", "title", "amount", "goal", "score", "grade",
                           "summary")
    column_export_list = ("subject", "kind", "fiscal_year", "department", "state",
                          "published_at")
    column_filters = ("kind", STATES.filter(), "fiscal_year",
                      *org_filters(Publication.org_unit_id))
    column_sortable_list = ("kind", "fiscal_year", "state", "published_at")
    column_default_sort = ("id", True)
    form_columns = ("kind", "budget_item", "result")
    form_ajax_refs = {"budget_item": {"fields": ("code", "name"), "page_size": 20}}
    list_template = "disclosure/publication_list.html"
    column_labels = {"subject": _l("Published object"), "kind": _l("Category"),
                     "fiscal_year": _l("Fiscal year"), "department": _l("Department"),
                     "state": _l("State"), "published_at": _l("Published at"),
                     "title": _l("Title"), "amount": _l("Amount (yuan)"),
                     "goal": _l("Overall goal"), "score": _l("Score"), "grade": _l("Grade"),
                     "summary": _l("Evaluation summary"), "budget_item": _l("Budget item"),
                     "result": _l("Evaluation result")}
    #: the subject is the item's (else the result's) code and name
    list_options = (selectinload(Publication.budget_item), selectinload(Publication.result))
    column_formatters = {
        "subject": lambda v, c, m, n: Markup('<a href="{}">{}</a>').format(
            url_for(".review", id=m.id), str(m)),
        "department": lambda v, c, m, n: org_unit_name(m.department_id) or (
            m.department.name if m.department else ""),
        "state": STATES.column,
        "grade": lambda v, c, m, n: str(GRADE_LABELS.get(m.grade, m.grade or "")),
    }

    def check_form(self, form) -> bool:
        kind, item, result = form.kind.data, form.budget_item.data, form.result.data
        if kind in (PublicationKind.ITEM_TARGETS, PublicationKind.POLICY_PILOT,
                    "item_targets", "policy_pilot"):
            if item is None:
                return add_field_error(form.budget_item, _l("Choose the budget item."))
            if PublicationKind(kind) == PublicationKind.POLICY_PILOT and \
                    item.kind != ItemKind.POLICY:
                return add_field_error(form.budget_item, _l(
                    "Only fiscal policies are published as a pilot."))
            if PublicationKind(kind) == PublicationKind.ITEM_TARGETS and \
                    str(item.kind) not in rules_for_year(item.fiscal_year.year).scope_kinds:
                return add_field_error(form.budget_item, _l(
                    "The item is outside the budget disclosure scope."))
            if result is not None:
                return add_field_error(form.result, _l("Leave this empty for targets."))
        elif result is None:
            return add_field_error(form.result, _l("Choose the evaluation result."))
        elif item is not None:
            return add_field_error(form.budget_item, _l("Leave this empty for a result."))
        return True

    def on_model_change(self, form, model, is_created):
        if not is_created and not service.is_editable(model):
            raise ValueError(_("The publication is under review or published and cannot be "
                               "changed."))
        with db.session.no_autoflush:  # the new row is incomplete until placed
            place = service.placement(model.budget_item, model.result)
        for name, value in place.items():
            setattr(model, name, value)
        if is_created:
            model.state, model.review_level = State.DRAFT, 0

    def on_model_delete(self, model):
        if not service.is_editable(model):
            raise ValueError(_("The publication is under review or published and cannot be "
                               "changed."))

    def _transition_all(self, ids, name: str) -> None:
        done, problems = 0, []
        for pk in ids:
            pub = self.get_one(pk)
            if pub is None:
                continue
            try:
                service.WORKFLOW.transition(pub, name, current_user,
                                            request.form.get("comment", ""))
                done += 1
            except WorkflowError as exc:
                problems.append(f"{pub}: {exc}")
        db.session.commit()
        flash(_("%(action)s: %(n)s done.", action=ACTION_LABELS[name], n=done), "success")
        for problem in problems[:20]:
            flash(problem, "error")

    @action("submit", _l("Submit"))
    def action_submit(self, ids):
        if not can(current_user, "publication.edit"):
            abort(403)
        self._transition_all(ids, "submit")

    @action("approve", _l("Publish (approve)"))
    def action_approve(self, ids):
        self._transition_all(ids, "approve")

    @action("reopen", _l("Withdraw from the public pages (reopen)"))
    def action_reopen(self, ids):
        self._transition_all(ids, "reopen")

    def _publication(self) -> Publication:
        pub = self.get_one(request.values.get("id", ""))
        if pub is None:
            abort(404)
        return pub

    @expose("/review/")
    def review(self):
        """What approving would publish (the preview), and the review actions."""
        pub = self._publication()
        actions = service.WORKFLOW.allowed_actions(pub, current_user)
        if not can(current_user, "publication.edit"):
            actions = [a for a in actions if a != "submit"]
        return self.render("disclosure/review.html", pub=pub, preview=service.preview(pub),
                           actions=actions, action_labels=ACTION_LABELS,
                           kind_labels=KIND_LABELS, grade_labels=GRADE_LABELS,
                           state_label=STATES.text(pub),
                           history=service.WORKFLOW.history(pub))

    @expose("/workflow/", methods=("POST",))
    def workflow(self):
        pub = self._publication()
        action = request.form.get("action", "")
        if action == "submit" and not can(current_user, "publication.edit"):
            abort(403)
        try:
            service.WORKFLOW.transition(pub, action, current_user,
                                        request.form.get("comment", ""))
            db.session.commit()
            flash(_("Done: %(action)s.", action=ACTION_LABELS.get(action, action)), "success")
        except WorkflowError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        return redirect(url_for(".review", id=pub.id))

    @expose("/prepare/", methods=("GET", "POST"))
    def prepare(self):
        if not can(current_user, "publication.create"):
            abort(403)
        year = _year_arg()
        back = url_for(".index_view")
        title = _("Prepare the publications of %(year)s", year=year)
        if request.method == "GET":
            targets, results = service.planned(year)
            return confirm(self, title, [
                _("draft %(n)s publications of approved performance targets", n=targets),
                _("draft %(n)s publications of evaluation results", n=results)],
                back=back, allowed=bool(targets or results), year=year)
        return start("disclosure.prepare", title, service.prepare_job, {"year": year},
                     back=back)


class StoredResultView(ScopedModelView):
    permission = "disclosure_result"
    read_only = True
    column_list = ("title", "fiscal_year", "kind", "object_kind", "amount", "score", "grade",
                   "finalized_at")
    column_details_list = (*column_list, "summary")
    column_filters = ("fiscal_year", "kind", "grade", *org_filters(StoredResult.org_unit_id))
    column_default_sort = ("id", True)
    column_labels = {"title": _l("Evaluated object"), "fiscal_year": _l("Fiscal year"),
                     "kind": _l("Evaluation type"), "object_kind": _l("Object"),
                     "amount": _l("Amount (yuan)"), "score": _l("Score"), "grade": _l("Grade"),
                     "finalized_at": _l("Finalized at"), "summary": _l("Evaluation summary")}
    column_formatters = {
        "kind": lambda v, c, m, n: str(EVALUATION_KIND_LABELS.get(m.kind, m.kind)),
        "grade": lambda v, c, m, n: str(GRADE_LABELS.get(m.grade, m.grade)),
    }


class CheckPage(ScopedPage):
    permission = "disclosure_check"

    @expose("/")
    def index(self):
        year = _year_arg()
        lines, threshold = service.check(year)
        return self.render("disclosure/check.html", lines=lines, threshold=threshold, year=year,
                           years=_years())


def register(admin, db) -> None:
    admin.add_view(PublicationView(Publication, db, name=_l("Publications"), category=CATEGORY,
                                   endpoint="publication"))
    admin.add_view(StoredResultView(StoredResult, db, name=_l("Evaluation results"),
                                    category=CATEGORY, endpoint="disclosureresult"))
    admin.add_view(CheckPage(name=_l("Disclosure check"), category=CATEGORY,
                             endpoint="disclosurecheck", url="disclosure-check"))
