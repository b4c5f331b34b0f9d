"""Admin pages (menu 事前绩效评估): pre-assessments with the self-assessment, key panel,
conclusion and report; the experts' reviews; the trigger list; key selection; the
next-year budget recommendations."""

from __future__ import annotations

from datetime import date

from flask import abort, flash, g, redirect, request, url_for
from flask_admin import expose
from flask_admin.contrib.sqla.filters import FilterEmpty
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select

from core.db_int import get_by_id
from core.extensions import db
from core.models import Attachment, BudgetItem, FiscalYear, Role, State, User
from core.permissions import can
from core.services.attachments import AttachmentError, save_attachment, send_attachment
from core.web.admin.base import ScopedModelView, ScopedPage
from core.web.admin.display import enum_label
from core.web.admin.filters import org_filters
from core.web.admin.review import OwnerEditsView
from core.web.admin.states import WorkflowStates
from core.web.forms import add_field_error, flash_problems
from core.workflow import ACTION_LABELS
from plugins.preassessment import report, service
from plugins.preassessment.models import (
    CONCLUSION_LABELS,
    EXEMPT_KIND_LABELS,
    ExpertReview,
    Preassessment,
)
from plugins.preassessment.rules import rules_for_year

CATEGORY = _l("Pre-assessment")
EVIDENCE = "preassessment"  # attachments: evidence of the self-assessment, review opinions

LABELS = {
    "budget_item": _l("Budget item"), "fiscal_year": _l("Fiscal year"), "state": _l("State"),
    "status": _l("Assessment status"), "substantially_changed": _l("Substantially changed"),
    "change_note": _l("What changed"), "extends_expiring_policy": _l("Expiring policy to extend"),
    "exempt_kind": _l("Exempt kind"), "reviewing_department": _l("Reviewing department"),
    "review_opinion": _l("Reviewing department's opinion"),
    "high_attention": _l("High public attention"), "self_score": _l("Self-assessment score"),
    "is_key": _l("Key pre-assessment"), "panel_score": _l("Panel score"),
    "panel_complete": _l("Panel scoring complete"),
    "conclusion": _l("Conclusion"), "recommended_amount": _l("Recommended amount (yuan)"),
    "summary": _l("Self-assessment notes"), "final_at": _l("Final"), "expert": _l("Expert"),
    "total": _l("Total score"), "submitted_at": _l("Submitted at"), "opinion": _l("Opinion"),
    "item": _l("Budget item"), "budget_item.code": _l("Item code"),
    "budget_item.name": _l("Item name"), "fiscal_year.year": _l("Fiscal year"),
    "rules_code": _l("Rule version"),
}


def year_arg() -> int:
    from core.models import FiscalYear

    raw = request.values.get("year", "")
    if raw.isdigit():
        return int(raw)
    year = FiscalYear.current()
    return year.year if year else date.today().year


def years() -> list[int]:
    return list(db.session.scalars(select(FiscalYear.year).order_by(FiscalYear.year.desc())))


def evidence_of(pa_id: int) -> list[Attachment]:
    with service.as_panel_member() as session:
        return list(session.scalars(select(Attachment).where(
            Attachment.object_type == EVIDENCE, Attachment.object_id == pa_id)
            .order_by(Attachment.id)))


def _form_points(rules) -> tuple[dict[str, str], dict[str, str]]:
    points, comments = {}, {}
    for n, ind in enumerate(rules.sheet):
        points[ind.path] = request.form.get(f"p{n}", "")
        comments[ind.path] = request.form.get(f"c{n}", "")
    return points, comments


def _final_only(attr: str):
    """A draft conclusion is the deciders' work in progress: others see it once final."""
    def format_(view, context, model, name):
        if model.final_at is None and not can(current_user, "preassessment.decide"):
            return ""
        value = getattr(model, attr)
        if value is None:
            return ""
        return str(CONCLUSION_LABELS.get(value, value)) if attr == "conclusion" else str(value)
    return format_


STATES = WorkflowStates(Preassessment, service.WORKFLOW, final="final_at")


class PreassessmentView(OwnerEditsView, ScopedModelView):
    permission = "preassessment"
    review_workflow = service.WORKFLOW
    own_page = "assessment"
    column_list = ("budget_item", "fiscal_year", "status", "state", "self_score", "is_key",
                   "panel_score", "conclusion", "recommended_amount")
    column_details_list = ("budget_item", "fiscal_year", "status", "state",
                           "substantially_changed",
                           "change_note", "extends_expiring_policy", "exempt_kind",
                           "reviewing_department", "review_opinion", "high_attention",
                           "self_score", "is_key", "panel_score", "conclusion",
                           "recommended_amount", "final_at", "rules_code")
    column_export_list = ("budget_item", "fiscal_year", "status", "state", "self_score",
                          "is_key", "panel_score", "conclusion", "recommended_amount")
    column_searchable_list = ("budget_item.code", "budget_item.name")
    column_filters = (STATES.filter(), "is_key", "conclusion", "fiscal_year.year",
                      *org_filters(Preassessment.org_unit_id), "panel_complete",
                      FilterEmpty(Preassessment.exempt_kind, _l("Exempt kind")))
    column_default_sort = ("id", True)
    form_columns = ("budget_item", "substantially_changed", "change_note",
                    "extends_expiring_policy", "exempt_kind", "reviewing_department",
                    "review_opinion", "high_attention")
    form_ajax_refs = {"budget_item": {"fields": ("code", "name"), "page_size": 20}}
    column_labels = LABELS
    column_formatters = {
        "budget_item": lambda v, c, m, n: Markup('<a href="{}">{}</a>').format(
            url_for(".assessment", id=m.id), str(m)),
        "status": lambda v, c, m, n: str(service.STATUS_LABELS[service.status_of(m)]),
        "state": STATES.column,
        "conclusion": _final_only("conclusion"),
        "recommended_amount": _final_only("recommended_amount"),
    }
    column_formatters_export = {
        "state": STATES.column,
        "budget_item": lambda v, c, m, n: str(m),
        "status": lambda v, c, m, n: str(service.STATUS_LABELS[service.status_of(m)]),
        "conclusion": _final_only("conclusion"),
        "recommended_amount": _final_only("recommended_amount"),
    }
    column_formatters_detail = column_formatters

    def check_form(self, form) -> bool:
        ok = True
        if form.exempt_kind.data:
            if not (form.reviewing_department.data or "").strip():
                ok = add_field_error(form.reviewing_department, _l(
                    "Name the specialist department that reviewed the item."))
            if not (form.review_opinion.data or "").strip():
                ok = add_field_error(form.review_opinion, _l(
                    "Attach the reviewing department's opinion."))
        if form.substantially_changed.data and not (form.change_note.data or "").strip():
            ok = add_field_error(form.change_note, _l(
                "Say what changed (content, target group or standard)."))
        return ok

    def on_model_change(self, form, model, is_created):
        item = model.budget_item
        if is_created:
            model.fiscal_year_id, model.org_unit_id = item.fiscal_year_id, item.org_unit_id
            model.rules_code = rules_for_year(item.fiscal_year.year).code
            model.state, model.review_level, model.answers = State.DRAFT, 0, {}
        else:
            service.check_open(model)
            if sa_inspect(model).attrs.budget_item.history.has_changes():
                raise ValueError(_("The budget item of a pre-assessment cannot be changed."))
            service.check_owner(model, current_user)
        problems = service.check_flags(model)
        if problems:
            raise ValueError("; ".join(str(p) for p in problems))

    def on_model_delete(self, model):
        service.check_open(model)
        if State(model.state or State.DRAFT) not in service.EDITABLE or model.reviews:
            raise ValueError(_("Only a draft pre-assessment without an expert panel can be "
                               "deleted."))

    def handle_view_exception(self, exc):
        if isinstance(exc, service.PreassessmentError):
            flash(str(exc), "error")
            db.session.rollback()
            return True
        return super().handle_view_exception(exc)

    # --- the pre-assessment page ---------------------------------------------------------
    def _pa(self) -> Preassessment:
        pa = self.get_one(request.values.get("id", ""))
        if pa is None:
            abort(404)
        return pa

    def _back(self, pa: Preassessment):
        return redirect(url_for(".assessment", id=pa.id))

    @expose("/assessment/")
    def assessment(self):
        pa = self._pa()
        rules = service.rules_of(pa)
        is_open = pa.final_at is None
        editable = is_open and can(current_user, "preassessment.edit") and \
            self.may_change(pa) and pa.exempt_kind is None
        actions = []
        if is_open and pa.exempt_kind is None:
            actions = [a for a in service.WORKFLOW.allowed_actions(pa, current_user)
                       if a != "reopen" and (a != "submit" or can(current_user,
                                                                  "preassessment.edit"))]
        decide = can(current_user, "preassessment.decide")
        experts = []
        if decide and pa.is_key and is_open and not pa.panel_complete:
            taken = {r.user_id for r in pa.reviews}
            experts = [u for u in db.session.scalars(
                select(User).join(Role, Role.id == User.role_id)
                .where(User.active, Role.name == service.EXPERT_ROLE).order_by(User.username))
                if u.id not in taken]
        return self.render(
            "preassessment/assessment.html", pa=pa, item=pa.budget_item, rules=rules,
            status=service.STATUS_LABELS[service.status_of(pa)], editable=editable,
            actions=actions, action_labels=ACTION_LABELS, label=enum_label, state_label=STATES.text(pa),
            history=service.WORKFLOW.history(pa), evidence=evidence_of(pa.id),
            decide=decide, experts=experts, reviews=pa.reviews if decide else [],
            suggested=service.suggested(pa), conclusions=CONCLUSION_LABELS,
            engagements=service.engagements_for(pa), is_open=is_open,
            can_upload=is_open and can(current_user, "preassessment.edit") and
            self.may_change(pa),
            conflict_of=service.conflict_of, exempt_labels=EXEMPT_KIND_LABELS)

    @expose("/save-self/", methods=("POST",))
    def save_self(self):
        pa = self._pa()
        if not can(current_user, "preassessment.edit"):
            abort(403)
        points, comments = _form_points(service.rules_of(pa))
        try:
            service.save_self(pa, points, comments, request.form.get("summary"),
                              current_user)
            if request.form.get("action") == "submit":
                service.transition(pa, "submit", current_user)
            db.session.commit()
            flash(_("The self-assessment was saved."), "success")
        except service.PreassessmentError as exc:
            flash_problems(exc.problems)
        return self._back(pa)

    @expose("/workflow/", methods=("POST",))
    def workflow(self):
        pa = self._pa()
        action = request.form.get("action", "")
        if action == "submit" and not can(current_user, "preassessment.edit"):
            abort(403)
        try:
            service.transition(pa, action, current_user, request.form.get("comment", ""))
            db.session.commit()
            flash(_("Done: %(action)s.", action=ACTION_LABELS.get(action, action)), "success")
        except service.PreassessmentError as exc:
            flash_problems(exc.problems)
        return self._back(pa)

    @expose("/evidence/", methods=("POST",))
    def evidence(self):
        pa = self._pa()
        if not can(current_user, "preassessment.edit"):
            abort(403)
        try:
            service.check_open(pa)
            service.check_owner(pa, current_user)
            save_attachment(request.files.get("file"), EVIDENCE, pa.id, pa.org_unit_id,
                            current_user, field=_("Evidence"))
            db.session.commit()
            flash(_("The file was attached."), "success")
        except service.PreassessmentError as exc:
            flash_problems(exc.problems)
        except AttachmentError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        return self._back(pa)

    def _decide(self) -> Preassessment:
        if not can(current_user, "preassessment.decide"):
            abort(403)
        return self._pa()

    @expose("/panel/", methods=("POST",))
    def panel(self):
        pa = self._decide()
        try:
            if request.form.get("remove"):
                review = next((r for r in pa.reviews
                               if str(r.id) == request.form.get("remove")), None)
                if review is None:
                    abort(404)
                service.remove_expert(review, current_user)
            else:
                raw = request.form.get("expert_id", "")
                expert = db.session.get(User, int(raw)) if raw.isdigit() else None
                service.add_expert(pa, expert)
            db.session.commit()
            flash(_("The panel was changed."), "success")
        except service.PreassessmentError as exc:
            flash_problems(exc.problems)
        return self._back(pa)

    @expose("/conclude/", methods=("POST",))
    def conclude(self):
        pa = self._decide()
        try:
            service.conclude(pa, request.form.get("conclusion", ""),
                             request.form.get("recommended_amount"), request.form.get("note"),
                             final=request.form.get("action") == "final", user=current_user)
            db.session.commit()
            flash(_("The conclusion was recorded."), "success")
        except service.PreassessmentError as exc:
            flash_problems(exc.problems)
        return self._back(pa)

    @expose("/report/")
    def report(self):
        pa = self._pa()
        context = report.context(pa)
        if request.args.get("format") == "doc":
            return report.doc_response(context)
        return self.render("preassessment/report.html", **context)


class ExpertReviewView(ScopedModelView):
    """The experts' reviews: an expert sees and scores only their own."""

    permission = "preassessment_review"
    own_page = "score"
    read_only = True
    column_list = ("item", "expert", "total", "submitted_at")
    column_details_list = ("item", "expert", "total", "opinion", "submitted_at")
    column_export_list = ("item", "expert", "total", "submitted_at")
    column_default_sort = ("id", True)
    column_labels = LABELS
    column_formatters = {
        "item": lambda v, c, m, n: Markup('<a href="{}">{}</a>').format(
            url_for(".score", id=m.id), v.name_of(m, "item")),
        "expert": lambda v, c, m, n: v.name_of(m, "expert"),
    }
    column_formatters_export = {
        "item": lambda v, c, m, n: v.name_of(m, "item"),
        "expert": lambda v, c, m, n: v.name_of(m, "expert"),
    }

    def get_list(self, *args, **kwargs):
        count, rows = super().get_list(*args, **kwargs)
        g.preassessment_review_names = report.names_of(rows)  # the page's, in two queries
        return count, rows

    @staticmethod
    def name_of(review: ExpertReview, what: str) -> str:
        """The review's item ("code name") or expert, from the page's names if listed."""
        names = g.get("preassessment_review_names", {}).get(what, {})
        key = review.preassessment_id if what == "item" else review.user_id
        if key in names:
            return names[key]
        return str(report.item_of(key)) if what == "item" else report.expert_name(key)

    def _review(self) -> ExpertReview:
        review = self.get_one(request.values.get("id", ""))
        if review is None:
            abort(404)
        return review

    @expose("/score/", methods=("GET", "POST"))
    def score(self):
        review = self._review()
        with service.as_panel_member():
            pa = db.session.get(Preassessment, review.preassessment_id)
            rules = service.rules_of(pa)
        if request.method == "POST":
            if not can(current_user, "preassessment_review.score") or \
                    review.user_id != current_user.id:
                abort(403)
            points, _comments = _form_points(rules)
            try:
                service.save_review(review, points, request.form.get("opinion", ""),
                                    submit=request.form.get("action") == "submit",
                                    user=current_user)
                db.session.commit()
                flash(_("Your scores were saved."), "success")
            except service.PreassessmentError as exc:
                flash_problems(exc.problems)
            return redirect(url_for(".score", id=review.id))
        with service.as_panel_member():
            context = report.context(pa, for_expert=True)
        return self.render(
            "preassessment/review.html", review=review,
            can_score=review.user_id == current_user.id and review.submitted_at is None and
            pa.final_at is None and can(current_user, "preassessment_review.score"),
            evidence=evidence_of(pa.id), **context)

    @expose("/file/")
    def file(self):
        """Evidence of a pre-assessment the expert is on the panel of."""
        review = self._review()
        raw = request.args.get("file", "")
        if not raw.isdigit():
            abort(404)
        with service.as_panel_member() as session:
            attachment = session.scalar(select(Attachment).where(
                Attachment.id == int(raw), Attachment.object_type == EVIDENCE,
                Attachment.object_id == review.preassessment_id))
        if attachment is None:
            abort(404)
        return send_attachment(attachment)


class TriggerPage(ScopedPage):
    """Which items need a pre-assessment, and which are still missing."""

    permission = "preassessment_report"

    @expose("/")
    def index(self):
        year = year_arg()
        only_missing = request.args.get("missing") == "1"
        rows = service.trigger_rows(year, only_missing=only_missing)
        return self.render("preassessment/trigger.html", rows=rows, year=year, years=years(),
                           rules=rules_for_year(year), only_missing=only_missing,
                           labels=service.STATUS_LABELS, label=enum_label)


class KeySelectionPage(ScopedPage):
    """The bureau's choice of key pre-assessments, in the suggested order."""

    permission = "preassessment_report"

    @expose("/", methods=("GET", "POST"))
    def index(self):
        year = year_arg()
        if request.method == "POST":
            if not can(current_user, "preassessment.decide"):
                abort(403)
            item = get_by_id(BudgetItem, request.form.get("item_id"))
            if item is None:
                abort(404)
            try:
                pa = service.for_item(item)
                if "attention" in request.form:
                    service.check_open(pa)
                    pa.high_attention = request.form["attention"] == "1"
                else:
                    service.set_key(pa, request.form.get("selected") == "1")
                db.session.commit()
                flash(_("The selection was saved."), "success")
            except service.PreassessmentError as exc:
                flash_problems(exc.problems)
            return redirect(url_for(".index", year=year))
        return self.render("preassessment/key.html", rows=service.candidates(year), year=year,
                           years=years(), rules=rules_for_year(year),
                           decide=can(current_user, "preassessment.decide"),
                           labels=service.STATUS_LABELS)


class BudgetPage(ScopedPage):
    """Next year's budget: requested vs recommended amounts after the pre-assessment."""

    permission = "preassessment_report"

    @expose("/")
    def index(self):
        year = year_arg()
        lines, totals = report.budget_lines(year)
        if request.args.get("format") == "xlsx":
            return report.budget_xlsx(lines, year)
        return self.render("preassessment/budget.html", lines=lines, totals=totals, year=year,
                           years=years(), labels=CONCLUSION_LABELS,
                           status_labels=service.STATUS_LABELS)


def register(admin, db) -> None:
    admin.add_view(TriggerPage(name=_l("Items to assess"), category=CATEGORY,
                               endpoint="preassessment_trigger", url="preassessment-trigger"))
    admin.add_view(PreassessmentView(Preassessment, name=_l("Pre-assessments"),
                                     category=CATEGORY, endpoint="preassessment"))
    admin.add_view(KeySelectionPage(name=_l("Key pre-assessments"), category=CATEGORY,
                                    endpoint="preassessment_key", url="preassessment-key"))
    admin.add_view(ExpertReviewView(ExpertReview, name=_l("Expert reviews"), category=CATEGORY,
                                    endpoint="preassessment_review"))
    admin.add_view(BudgetPage(name=_l("Budget recommendations"), category=CATEGORY,
                              endpoint="preassessment_budget", url="preassessment-budget"))
