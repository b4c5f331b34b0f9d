"""API: publications and stored evaluation results (read), and the disclosure check."""

from __future__ import annotations

from marshmallow import Schema, fields, validate
from sqlalchemy import select

from core.models import State
from core.web.api import ApiBlueprint, get_or_404, requires
from core.web.api.contract_schemas import EvaluationResultSchema
from core.web.api.fields import UtcDateTime
from core.web.api.pagination import PageArgs, page_schema, paginate
from plugins.disclosure import service
from plugins.disclosure.models import Publication, PublicationKind, StoredResult

blp = ApiBlueprint("disclosure_api", __name__, url_prefix="/api/v1",
                   description="Disclosure (信息公开): publications and the disclosure check")


def _money(value) -> str | None:
    return None if value is None else str(value)


class PublicationSchema(Schema):
    id = fields.Integer()
    kind = fields.Function(lambda p: p.kind.value)
    fiscal_year = fields.Integer()
    department_id = fields.Integer()
    budget_item_id = fields.Integer(allow_none=True)
    result_id = fields.Integer(allow_none=True)
    state = fields.Function(lambda p: State(p.state).value)
    published_at = UtcDateTime(allow_none=True)
    title = fields.String(allow_none=True)
    amount = fields.Function(lambda p: _money(p.amount), metadata={"description": "yuan"})
    score = fields.Function(lambda p: _money(p.score))
    grade = fields.String(allow_none=True)


class ResultSchema(EvaluationResultSchema):
    """A stored result; ``id`` is disclosure's own, ``evaluation_id`` the evaluation's."""

    evaluation_id = fields.Integer()


class PublicationArgs(PageArgs):
    year = fields.Integer(validate=validate.Range(2000, 2100))
    kind = fields.String(validate=validate.OneOf([k.value for k in PublicationKind]))
    state = fields.String(validate=validate.OneOf([s.value for s in State]))


class YearArgs(PageArgs):
    year = fields.Integer(validate=validate.Range(2000, 2100))


class CheckArgs(Schema):
    year = fields.Integer(validate=validate.Range(2000, 2100), metadata={
        "description": "The fiscal year (default: the current one)"})


class CheckLineSchema(Schema):
    department_id = fields.Function(lambda c: c.department.id)
    department = fields.Function(lambda c: c.department.name)
    expenditure = fields.Function(lambda c: str(c.expenditure))
    published = fields.Function(lambda c: str(c.published))
    share = fields.Function(lambda c: str(c.share), metadata={"description": "percent"})
    results_to_publish = fields.Function(lambda c: [
        {"result_id": r.id, "title": r.title, "adds": str(gain)}
        for r, gain in c.results_to_publish])
    items_to_evaluate = fields.Function(lambda c: [i.id for i in c.items_to_evaluate])


class CheckSchema(Schema):
    year = fields.Integer()
    threshold = fields.String(metadata={"description": "percent"})
    departments = fields.List(fields.Nested(CheckLineSchema))


@blp.route("/publications")
@blp.arguments(PublicationArgs, location="query")
@blp.response(200, page_schema(PublicationSchema))
@requires("publication.view")
def list_publications(args):
    """Publications the caller may see (any state), by year, category and state."""
    stmt = select(Publication).order_by(Publication.id)
    if args.get("year"):
        stmt = stmt.where(Publication.fiscal_year == args["year"])
    if args.get("kind"):
        stmt = stmt.where(Publication.kind == args["kind"])
    if args.get("state"):
        stmt = stmt.where(Publication.state == args["state"])
    return paginate(stmt, args)


@blp.route("/publications/<int:publication_id>")
@blp.response(200, PublicationSchema)
@requires("publication.view")
def get_publication(publication_id: int):
    """One publication."""
    return get_or_404(Publication, publication_id)


@blp.route("/disclosure-results")
@blp.arguments(YearArgs, location="query")
@blp.response(200, page_schema(ResultSchema))
@requires("disclosure_result.view")
def list_results(args):
    """Finalized evaluation results stored for disclosure."""
    stmt = select(StoredResult).order_by(StoredResult.id)
    if args.get("year"):
        stmt = stmt.where(StoredResult.fiscal_year == args["year"])
    return paginate(stmt, args)


@blp.route("/disclosure-check")
@blp.arguments(CheckArgs, location="query")
@blp.response(200, CheckSchema)
@requires("disclosure_check.view")
def disclosure_check(args):
    """Per department: the share of project expenditure covered by published results."""
    from core.models import FiscalYear

    year = args.get("year") or getattr(FiscalYear.current(), "year", None)
    lines, threshold = service.check(year) if year else ([], None)
    return {"year": year, "threshold": str(threshold or ""), "departments": lines}
