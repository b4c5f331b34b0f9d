"""Public disclosure pages (/disclosure), without login: plain Flask pages in Chinese.

For each year and department: the targets of every published item, the policy
targets published as a pilot, and published evaluation results with grade and
score; and the same content as open data (CSV, JSON, XLSX) at stable URLs:

- ``/disclosure/<year>/<dataset>.<fmt>`` — district-wide;
- ``/disclosure/<year>/<department code>/<dataset>.<fmt>`` — one department.

Only approved publications' snapshots are read (``opendata.published``).
Unknown years, departments, datasets or formats are a 404 page; a bad query
parameter is a 400 page.
"""

from __future__ import annotations

from itertools import groupby

from flask import Blueprint, abort, render_template, request, stream_template, stream_with_context
from flask_babel import gettext as _
from sqlalchemy import func, select

from core.extensions import db
from core.models import FiscalYear, OrgUnit
from plugins.disclosure import opendata
from plugins.disclosure.models import (
    EVALUATION_KIND_LABELS,
    GRADE_LABELS,
    KIND_LABELS,
    Publication,
    PublicationKind,
    PublishedIndicator,
)
from plugins.disclosure.service import OWNER_KINDS

bp = Blueprint("disclosure_public", __name__, url_prefix="/disclosure")
UNSCOPED = {"jixiao_unscoped": True}
SECTIONS = ("all", "targets", "policies", "results")


def _year(year: int) -> FiscalYear:
    found = db.session.scalar(select(FiscalYear).where(FiscalYear.year == year)
                              .execution_options(**UNSCOPED))
    if found is None:
        abort(404)
    return found


def _department(code: str) -> OrgUnit:
    dept = db.session.scalar(select(OrgUnit).where(
        OrgUnit.code == code, OrgUnit.kind.in_(OWNER_KINDS)).execution_options(**UNSCOPED))
    if dept is None:
        abort(404)
    return dept


@bp.errorhandler(404)
@bp.errorhandler(400)
def _error(exc):
    return render_template("disclosure/public_error.html", error=exc), exc.code


@bp.route("/")
def index():
    years = db.session.scalars(select(FiscalYear.year).order_by(FiscalYear.year.desc())
                               .execution_options(**UNSCOPED)).all()
    return render_template("disclosure/public_index.html", years=years)


@bp.route("/<int:year>/")
def year_page(year: int):
    fy = _year(year)
    rows = db.session.execute(opendata.published(
        select(OrgUnit.code, OrgUnit.name, Publication.kind, func.count(Publication.id))
        .join(OrgUnit, OrgUnit.id == Publication.department_id)
        .where(OrgUnit.kind.in_(OWNER_KINDS))
        .group_by(OrgUnit.code, OrgUnit.name, Publication.kind)
        .order_by(OrgUnit.code), year).execution_options(**UNSCOPED)).all()
    departments: dict[str, dict] = {}
    for code, name, kind, n in rows:
        departments.setdefault(code, {"code": code, "name": name})[str(kind)] = n
    return render_template("disclosure/public_year.html", fy=fy,
                           departments=list(departments.values()), formats=opendata.FORMATS)


def _target_groups(year: int, dept_id: int, kind: PublicationKind):
    """(publication columns, its indicators) per published item, read in batches."""
    stmt = opendata.published(select(
        Publication.id, Publication.item_code, Publication.title, Publication.amount,
        Publication.goal, PublishedIndicator.level1, PublishedIndicator.level2,
        PublishedIndicator.name, PublishedIndicator.comparator, PublishedIndicator.target_value,
        PublishedIndicator.unit)
        .join(PublishedIndicator, PublishedIndicator.publication_id == Publication.id)
        .where(Publication.department_id == dept_id, Publication.kind == kind), year) \
        .order_by(Publication.item_code, Publication.id, PublishedIndicator.position) \
        .execution_options(**opendata.PUBLIC)
    for _pub_id, rows in groupby(db.session.execute(stmt), key=lambda r: r[0]):
        rows = list(rows)
        yield rows[0], rows


def _results(year: int, dept_id: int):
    stmt = opendata.published(select(
        Publication.title, Publication.item_code, Publication.evaluation_kind,
        Publication.amount, Publication.score, Publication.grade, Publication.summary,
        Publication.published_at)
        .where(Publication.department_id == dept_id,
               Publication.kind == PublicationKind.EVALUATION_RESULT), year) \
        .order_by(Publication.id).execution_options(**opendata.PUBLIC)
    yield from db.session.execute(stmt)


@bp.route("/<int:year>/<code>/")
def department_page(year: int, code: str):
    section = request.args.get("section", "all")
    if section not in SECTIONS:
        abort(400, _("Unknown section %(section)s: use one of %(choices)s.", section=section[:40],
                     choices=", ".join(SECTIONS)))
    fy, dept = _year(year), _department(code)
    shown = {s for s in SECTIONS if section in ("all", s)}
    return stream_with_context(stream_template(
        "disclosure/public_department.html", fy=fy, dept=dept, section=section,
        sections=SECTIONS, formats=opendata.FORMATS, kind_labels=KIND_LABELS,
        grade_labels=GRADE_LABELS, evaluation_kinds=EVALUATION_KIND_LABELS,
        comparators={"ge": "≥", "le": "≤", "eq": "=", "range": "", "qualitative": ""},
        targets=_target_groups(year, dept.id, PublicationKind.ITEM_TARGETS)
        if "targets" in shown else (),
        policies=_target_groups(year, dept.id, PublicationKind.POLICY_PILOT)
        if "policies" in shown else (),
        results=_results(year, dept.id) if "results" in shown else ()))


def _download(year: int, dept: OrgUnit | None, name: str, fmt: str):
    ds = opendata.dataset(name)
    if ds is None or fmt not in opendata.FORMATS:
        abort(404)
    rows = opendata.target_rows if name == "targets" else opendata.result_rows
    filename = f"{year}-{dept.code if dept else 'district'}-{name}"
    return opendata.response(ds, rows(year, dept.id if dept else None), fmt, filename)


@bp.route("/<int:year>/<name>.<fmt>")
def district_data(year: int, name: str, fmt: str):
    _year(year)
    return _download(year, None, name, fmt)


@bp.route("/<int:year>/<code>/<name>.<fmt>")
def department_data(year: int, code: str, name: str, fmt: str):
    _year(year)
    return _download(year, _department(code), name, fmt)
