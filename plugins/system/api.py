"""API of the shared model: org units, projects and budget items (read)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate
from sqlalchemy import select

from core.models import BudgetItem, FiscalYear, OrgUnit, Project
from core.web.api import ApiBlueprint, get_or_404, requires
from core.web.api.pagination import PageArgs, page_schema, paginate

blp = ApiBlueprint("core_api", __name__, url_prefix="/api/v1", description="Shared model")


class BudgetItemArgs(PageArgs):
    year = fields.Integer()
    q = fields.String(validate=validate.Length(max=100))


class OrgUnitSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    kind = fields.Function(lambda o: o.kind.value)
    parent_id = fields.Integer(allow_none=True)


class BudgetItemSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    year = fields.Function(lambda o: o.fiscal_year.year)
    org_unit_id = fields.Integer()
    kind = fields.Function(lambda o: o.kind.value)
    budget_type = fields.Function(lambda o: o.budget_type.value)
    amount = fields.Decimal(as_string=True, places=2)
    is_new = fields.Boolean()
    is_recurring = fields.Boolean()
    is_key_task = fields.Boolean()
    is_purchase_of_services = fields.Boolean()
    contractor = fields.String(allow_none=True)
    project_id = fields.Integer(allow_none=True)


class ProjectItemSchema(Schema):
    id = fields.Integer()
    year = fields.Function(lambda o: o.fiscal_year.year)
    code = fields.String()
    amount = fields.Decimal(as_string=True, places=2)


class ProjectSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    org_unit_id = fields.Integer()
    kind = fields.Function(lambda o: o.kind.value)
    status = fields.Function(lambda o: o.status.value)
    start_year = fields.Integer()
    end_year = fields.Integer(allow_none=True)


class ProjectDetailSchema(ProjectSchema):
    #: the project's budget item of each year, newest first
    items = fields.Function(lambda o: ProjectItemSchema(many=True).dump(
        sorted(o.items, key=lambda i: -i.fiscal_year.year)))


class ProjectArgs(PageArgs):
    q = fields.String(validate=validate.Length(max=100))


@blp.route("/org-units")
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_schema(OrgUnitSchema))
@requires("org_unit.view")
def list_org_units(args):
    """Org units the caller may see."""
    return paginate(select(OrgUnit).order_by(OrgUnit.path), args)


@blp.route("/budget-items")
@blp.arguments(BudgetItemArgs, location="query")
@blp.response(200, page_schema(BudgetItemSchema))
@requires("budget_item.view")
def list_budget_items(args):
    """Budget items the caller may see, optionally by year and text."""
    stmt = select(BudgetItem).order_by(BudgetItem.code, BudgetItem.id)
    if args.get("year"):
        stmt = stmt.join(FiscalYear).where(FiscalYear.year == args["year"])
    if args.get("q"):
        q = args["q"]  # % and _ are letters here, not wildcards
        stmt = stmt.where(BudgetItem.name.contains(q, autoescape=True)
                          | BudgetItem.code.contains(q, autoescape=True))
    return paginate(stmt, args)


@blp.route("/budget-items/<int:item_id>")
@blp.response(200, BudgetItemSchema)
@requires("budget_item.view")
def get_budget_item(item_id: int):
    """One budget item, if the caller may see it."""
    return get_or_404(BudgetItem, item_id)


@blp.route("/projects")
@blp.arguments(ProjectArgs, location="query")
@blp.response(200, page_schema(ProjectSchema))
@requires("project.view")
def list_projects(args):
    """Projects of the library the caller may see, optionally by text (code or name)."""
    stmt = select(Project).order_by(Project.code)
    if args.get("q"):
        q = args["q"]
        stmt = stmt.where(Project.name.contains(q, autoescape=True)
                          | Project.code.contains(q, autoescape=True))
    return paginate(stmt, args)


@blp.route("/projects/<int:project_id>")
@blp.response(200, ProjectDetailSchema)
@requires("project.view")
def get_project(project_id: int):
    """One project with its budget item of each year, if the caller may see it."""
    return get_or_404(Project, project_id)
