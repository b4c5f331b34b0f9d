"""API: catalogues with their coverage figures, and catalogue entries (read)."""

from __future__ import annotations

from datetime import date

from marshmallow import Schema, fields, validate
from sqlalchemy import select

from core.models import State
from core.web.api import ApiBlueprint, get_or_404, requires
from core.web.api.pagination import PageArgs, page_schema, paginate
from plugins.catalogue import planner
from plugins.catalogue.models import Catalogue, CatalogueEntry

blp = ApiBlueprint("catalogue_api", __name__, url_prefix="/api/v1",
                   description="Key evaluation catalogues (重点绩效评价目录) and coverage")


def _coverage(catalogue: Catalogue) -> dict:
    r = planner.report(catalogue, date.today().year)
    return {"entries": r.entries, "covered": r.covered, "amount": str(r.amount),
            "covered_amount": str(r.covered_amount), "count_share": str(r.count_share),
            "amount_share": str(r.amount_share), "at_risk": [e.id for e, _why in r.at_risk],
            "years": [{"year": y.year, "due": y.due, "done": y.done, "overdue": y.overdue}
                      for y in r.years]}


class CatalogueSchema(Schema):
    id = fields.Integer()
    org_unit_id = fields.Integer()
    department = fields.Function(lambda c: c.org_unit.name)
    cycle_start = fields.Integer()
    cycle_end = fields.Integer()
    state = fields.Function(lambda c: State(c.state).value)
    rules_code = fields.String()
    coverage = fields.Function(_coverage, metadata={
        "description": "Counts and amounts (decimal strings) evaluated so far, the ids of "
                       "entries at risk, and per year what is due, done and overdue"})


class EntrySchema(Schema):
    id = fields.Integer()
    catalogue_id = fields.Integer()
    budget_item_id = fields.Integer()
    item_code = fields.Function(lambda e: e.budget_item.code)
    reason = fields.Function(lambda e: e.reason.value)
    amount = fields.Function(lambda e: str(e.amount), metadata={"description": "yuan"})
    planned_year = fields.Integer(allow_none=True)
    evaluated_in = fields.Function(planner.covered_year, allow_none=True)


class CatalogueArgs(PageArgs):
    year = fields.Integer(validate=validate.Range(2000, 2100), metadata={
        "description": "Only catalogues whose cycle starts this year"})


class EntryArgs(PageArgs):
    catalogue_id = fields.Integer()


@blp.route("/catalogues")
@blp.arguments(CatalogueArgs, location="query")
@blp.response(200, page_schema(CatalogueSchema))
@requires("catalogue.view")
def list_catalogues(args):
    """The catalogues the caller may see, with coverage figures."""
    stmt = select(Catalogue).options(planner.WITH_ENTRIES).order_by(Catalogue.id)
    if args.get("year"):
        stmt = stmt.where(Catalogue.cycle_start == args["year"])
    return paginate(stmt, args)


@blp.route("/catalogues/<int:catalogue_id>")
@blp.response(200, CatalogueSchema)
@requires("catalogue.view")
def get_catalogue(catalogue_id: int):
    """One catalogue with coverage figures."""
    return get_or_404(Catalogue, catalogue_id)


@blp.route("/catalogue-entries")
@blp.arguments(EntryArgs, location="query")
@blp.response(200, page_schema(EntrySchema))
@requires("catalogue_entry.view")
def list_entries(args):
    """Catalogue entries the caller may see, with planned and actual evaluation years."""
    stmt = select(CatalogueEntry).order_by(CatalogueEntry.id)
    if args.get("catalogue_id"):
        stmt = stmt.where(CatalogueEntry.catalogue_id == args["catalogue_id"])
    return paginate(stmt, args)
