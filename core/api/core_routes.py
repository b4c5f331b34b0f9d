"""API of the shared model: org units and budget items (read)."""

from __future__ import annotations

from flask_smorest import abort
from marshmallow import Schema, fields, validate
from sqlalchemy import func, select

from core.api import ApiBlueprint, requires
from core.extensions import db
from core.models import BudgetItem, OrgUnit

blp = ApiBlueprint("core_api", __name__, url_prefix="/api/v1", description="Shared model")


class PageArgs(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


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


class PageSchema(Schema):
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()


class OrgUnitPage(PageSchema):
    items = fields.List(fields.Nested(OrgUnitSchema))


class BudgetItemPage(PageSchema):
    items = fields.List(fields.Nested(BudgetItemSchema))


def paginate(stmt, page: int, per_page: int) -> dict:
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    items = db.session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)).all()
    return {"total": total, "page": page, "per_page": per_page, "items": items}


@blp.route("/org-units")
@blp.arguments(PageArgs, location="query")
@blp.response(200, OrgUnitPage)
@requires("org_unit.view")
def list_org_units(args):
    """Org units the caller may see."""
    return paginate(select(OrgUnit).order_by(OrgUnit.path), args["page"], args["per_page"])


@blp.route("/budget-items")
@blp.arguments(BudgetItemArgs, location="query")
@blp.response(200, BudgetItemPage)
@requires("budget_item.view")
def list_budget_items(args):
    """Budget items the caller may see, optionally by year and text."""
    from core.models import FiscalYear

    stmt = select(BudgetItem).order_by(BudgetItem.code)
    if args.get("year"):
        stmt = stmt.join(FiscalYear).where(FiscalYear.year == args["year"])
    if args.get("q"):
        stmt = stmt.where(BudgetItem.name.contains(args["q"]) | BudgetItem.code.contains(args["q"]))
    return paginate(stmt, args["page"], args["per_page"])


@blp.route("/budget-items/<int:item_id>")
@blp.response(200, BudgetItemSchema)
@requires("budget_item.view")
def get_budget_item(item_id: int):
    """One budget item, if the caller may see it."""
    item = db.session.execute(select(BudgetItem).where(BudgetItem.id == item_id)).scalar_one_or_none()
    if item is None:
        abort(404)
    return item
