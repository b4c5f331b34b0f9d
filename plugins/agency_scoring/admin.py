"""Admin pages (menu 第三方机构考核): assessments with their scoring page, appeals,
annual ratings, restrictions, and the overview (grade distribution, restrictions)."""

from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from core.extensions import db
from core.permissions import can
from core.services.scoring import grade_label
from core.web.admin.base import ScopedModelView, ScopedPage
from core.web.admin.filters import department_filter
from core.web.background import confirm, start
from core.web.forms import add_field_error, flash_problems
from plugins.agency_scoring import rating as ratings
from plugins.agency_scoring import service
from plugins.agency_scoring.models import (
    Appeal,
    AppealStatus,
    Assessment,
    Rating,
    Restriction,
)
from plugins.agency_scoring.overview import overview
from plugins.agency_scoring.views import scores_of

CATEGORY = _l("Agency assessment")  # the stage
#: the menu: under the agencies\' category (one menu entry for the third parties)
MENU = _l("Third-party agencies")
INPUT_KEYS = ("level", "percent", "defects", "target", "actual")

LABELS = {
    "code": _l("Engagement"), "title": _l("Title"), "agency_name": _l("Agency"),
    "year": _l("Year"), "status": _l("Status"), "party_total": _l("Party score"),
    "spot_total": _l("Spot-check score"), "score": _l("Score"), "grade": _l("Grade"),
    "appeal_until": _l("Appeal until"), "contract_amount": _l("Contract amount (yuan)"),
    "end_on": _l("End"), "vetoes": _l("Veto items"), "org_unit": _l("Commissioning party"),
    "assessment_id": _l("Assessment"), "reason": _l("Reason"), "score_before": _l("Score before"),
    "grade_before": _l("Grade before"), "score_after": _l("Score after"),
    "grade_after": _l("Grade after"), "decision": _l("Decision"), "created_at": _l("Filed"),
    "engagements": _l("Number of engagements"), "amount": _l("Amount (yuan)"),
    "weighted_mean": _l("Weighted mean"), "spot_deduction": _l("Spot-check deduction"),
    "violation_deduction": _l("Violation deduction"), "rank": _l("Rank"),
    "agency_id": _l("Agency id"), "staff_id": _l("Staff id"), "staff_name": _l("Staff member"),
    "kind": _l("Kind"), "start_on": _l("From"),
}


def _grade(v, c, m, n):
    value = getattr(m, n)
    return grade_label(value) if value else ""


class AssessmentView(ScopedModelView):
    permission = "agency_assessment"
    own_page = "page"
    read_only = True
    column_list = ("code", "title", "agency_name", "year", "status", "party_total",
                   "spot_total", "score", "grade", "appeal_until")
    column_searchable_list = ("code", "title", "agency_name")
    column_filters = ("year", "status", "grade", department_filter(Assessment.org_unit_id))
    column_default_sort = ("id", True)
    column_labels = LABELS
    column_formatters = {
        "code": lambda v, c, m, n: Markup('<a href="{}">{}</a>').format(
            url_for(".page", id=m.id), m.code),
        "grade": _grade,
    }
    column_formatters_export = {"grade": _grade}

    def _assessment(self) -> Assessment:
        found = self.get_one(request.values.get("id", ""))
        if found is None:
            abort(404)
        return found

    @expose("/page/")
    def page(self):
        a = self._assessment()
        rules = service.rules_of(a)
        may_party = a.party_total is None and can(current_user, "agency_assessment.score")
        may_spot = a.party_total is not None and a.spot_total is None and \
            can(current_user, "agency_assessment.spot_check")
        appeals = db.session.scalars(select(Appeal).where(Appeal.assessment_id == a.id)
                                     .order_by(Appeal.id)).all()
        may_appeal = can(current_user, "agency_appeal.file") and a.score is not None and \
            not appeals and a.appeal_until is not None and date.today() <= a.appeal_until
        return self.render(
            "agency_scoring/assessment.html", a=a, rules=rules, scores=scores_of(a),
            sheet=rules.sheet, spot_sheet=rules.spot_sheet, may_party=may_party,
            may_spot=may_spot, may_appeal=may_appeal, appeals=appeals,
            may_decide=can(current_user, "agency_appeal.decide"), pending=AppealStatus.PENDING,
            suggested=service.suggested_inputs(a, rules.sheet), grade_label=grade_label,
            vetoes=service.veto_names(a), errors=getattr(self, "_errors", {}))

    @expose("/score/", methods=("POST",))
    def score(self):
        a = self._assessment()
        who = request.form.get("who")
        perm = {service.PARTY: "agency_assessment.score",
                service.SPOT: "agency_assessment.spot_check"}.get(who)
        if perm is None or not can(current_user, perm):
            abort(403)
        raw: dict[str, dict] = {}
        for key, value in request.form.items():
            if key.startswith("in|"):
                _prefix, path, name = key.split("|", 2)
                if name in INPUT_KEYS:
                    raw.setdefault(path, {})[name] = value.strip()
        try:
            service.record_score(a, who, raw, request.form.getlist("veto"), current_user)
            db.session.commit()
            flash(_("The score was saved."), "success")
        except service.AssessmentError as exc:
            flash_problems(exc.lines())
        return redirect(url_for(".page", id=a.id))

    @expose("/appeal/", methods=("POST",))
    def appeal(self):
        if not can(current_user, "agency_appeal.file"):
            abort(403)
        a = self._assessment()
        try:
            service.file_appeal(a, request.form.get("reason", ""), current_user)
            db.session.commit()
            flash(_("The appeal was filed."), "success")
        except service.AssessmentError as exc:
            flash_problems(exc.lines())
        return redirect(url_for(".page", id=a.id))

    @expose("/decide/", methods=("POST",))
    def decide(self):
        if not can(current_user, "agency_appeal.decide"):
            abort(403)
        a = self._assessment()
        appeal = db.session.scalar(select(Appeal).where(
            Appeal.assessment_id == a.id, Appeal.id == request.form.get("appeal_id", type=int)))
        if appeal is None:
            abort(404)
        try:
            service.decide_appeal(appeal, request.form.get("uphold") == "1",
                                  request.form.get("score"), request.form.get("decision", ""),
                                  current_user)
            db.session.commit()
            flash(_("The decision was saved."), "success")
        except service.AssessmentError as exc:
            flash_problems(exc.lines())
        return redirect(url_for(".page", id=a.id))


class AppealView(ScopedModelView):
    permission = "agency_appeal"
    read_only = True
    column_list = ("assessment_id", "status", "score_before", "grade_before", "score_after",
                   "grade_after", "created_at")
    column_details_list = ("assessment_id", "reason", "status", "score_before", "grade_before",
                           "score_after", "grade_after", "decision", "created_at")
    column_filters = ("status", department_filter(Appeal.org_unit_id))
    column_default_sort = ("id", True)
    column_labels = LABELS
    column_formatters = {
        "assessment_id": lambda v, c, m, n: Markup('<a href="{}">#{}</a>').format(
            url_for("agency_assessment.page", id=m.assessment_id), m.assessment_id),
        "grade_before": _grade, "grade_after": _grade,
    }
    column_formatters_export = {"grade_before": _grade, "grade_after": _grade}


class RatingView(ScopedModelView):
    permission = "agency_rating"
    read_only = True
    column_list = ("year", "rank", "agency_name", "engagements", "amount", "weighted_mean",
                   "spot_deduction", "violation_deduction", "score", "grade", "status")
    column_filters = ("year", "grade", "status")
    column_default_sort = [("year", True), ("rank", False)]
    column_labels = LABELS
    column_formatters = {"grade": _grade}
    column_formatters_export = {"grade": _grade}


class RestrictionView(ScopedModelView):
    permission = "agency_restriction"
    column_list = ("agency_name", "staff_name", "kind", "reason", "start_on", "end_on")
    column_filters = ("kind", "start_on", "end_on")
    column_searchable_list = ("agency_name", "staff_name")
    column_default_sort = ("id", True)
    form_columns = ("agency_id", "agency_name", "staff_id", "staff_name", "kind", "reason",
                    "start_on", "end_on")
    column_labels = {**LABELS, "end_on": _l("Until")}

    def check_form(self, form) -> bool:
        ok = True
        if form.start_on.data and form.end_on.data and form.end_on.data < form.start_on.data:
            ok = add_field_error(form.end_on, _l("The end is before the start."))
        if not (form.reason.data or "").strip():
            ok = add_field_error(form.reason, _l("Give the reason."))
        return ok


class OverviewPage(ScopedPage):
    """Grade distribution by year (a bar chart), agencies under restriction, expiring ones;
    finance computes and publishes the year's rating here."""

    permission = "agency_rating"

    @expose("/")
    def index(self):
        year = request.args.get("year", type=int)
        return self.render("agency_scoring/overview.html", **overview(year),
                           may_manage=can(current_user, "agency_rating.manage"),
                           grade_label=grade_label)

    @expose("/rating/", methods=("GET", "POST"))
    def rating(self):
        if not can(current_user, "agency_rating.manage"):
            abort(403)
        year = request.values.get("year", type=int)
        if year is None:
            flash(_("Year: enter a year."), "error")
            return redirect(url_for(".index"))
        action = "publish" if request.values.get("action") == "publish" else "compute"
        back = url_for(".index", year=year)
        title = _("Publish the %(year)s rating (final)", year=year) if action == "publish" \
            else _("Compute the %(year)s rating", year=year)
        if request.method == "GET":
            n = ratings.agencies_to_rate(year)
            line = _("rate %(n)s agencies with a scored engagement in %(year)s, make the "
                     "ratings final and apply their consequences (exclusions, warnings)",
                     n=n, year=year) if action == "publish" else \
                _("rate %(n)s agencies with a scored engagement in %(year)s (a draft that "
                  "replaces the last one)", n=n, year=year)
            return confirm(self, title, [line], back=back, allowed=n > 0, year=year,
                           action=action)
        return start(f"agency_scoring.{action}", title, ratings.rating_job,
                     {"year": year, "publish": action == "publish"}, back=back)


def register(admin, db) -> None:
    admin.add_view(OverviewPage(name=_l("Assessment overview"), category=MENU,
                                endpoint="agency_scoring_overview"))
    admin.add_view(AssessmentView(Assessment, name=_l("Engagement assessments"),
                                  category=MENU, endpoint="agency_assessment"))
    admin.add_view(AppealView(Appeal, name=_l("Appeals"), category=MENU,
                              endpoint="agency_appeal"))
    admin.add_view(RatingView(Rating, name=_l("Annual ratings"), category=MENU,
                              endpoint="agency_rating"))
    admin.add_view(RestrictionView(Restriction, name=_l("Restrictions"), category=MENU,
                                   endpoint="agency_restriction"))
