"""API: target sheets and their indicators (read; submit as JSON), and the indicator library."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from core.extensions import db
from core.models import BudgetItem, FiscalYear, State
from core.web.api import ApiBlueprint, error_response, get_or_404, requires, stale
from core.web.api.pagination import PageArgs, page_schema, paginate
from plugins.targets import service
from plugins.targets.models import IndicatorTemplate, TargetSheet
from plugins.targets.validation import clean_indicator, duplicate_keys, weight_problem

blp = ApiBlueprint("targets_api", __name__, url_prefix="/api/v1",
                   description="Performance targets and the indicator library")


class IndicatorSchema(Schema):
    id = fields.Integer(dump_only=True)
    level1 = fields.String(required=True)
    level2 = fields.String(required=True)
    name = fields.String(required=True)
    comparator = fields.Function(lambda o: o.comparator.value, deserialize=str, required=True,
                                 metadata={"description": "ge, le, eq, range or qualitative"})
    target_value = fields.Raw(required=True, metadata={
        "description": "A number as a string (or an int), 'low-high' for a range, text if "
                       "qualitative; never a float"})
    unit = fields.String(allow_none=True, load_default=None)
    weight = fields.Raw(required=True, metadata={"description": "Decimal string, e.g. \"20\""})
    scoring_method = fields.String(load_default="")
    data_source = fields.String(allow_none=True, load_default=None)
    period_value = fields.String(allow_none=True, load_default=None)
    template_id = fields.Integer(allow_none=True, load_default=None)
    review_comment = fields.String(dump_only=True, allow_none=True)


class SheetSchema(Schema):
    id = fields.Integer()
    budget_item_id = fields.Integer()
    item_code = fields.Function(lambda s: s.budget_item.code)
    year = fields.Function(lambda s: s.fiscal_year.year)
    goal = fields.String()
    period_goal = fields.String(allow_none=True)
    state = fields.Function(lambda s: State(s.state).value)
    revision = fields.Integer()
    rules_code = fields.String()
    version = fields.Integer()
    indicators = fields.Function(lambda s: [_dump_indicator(i) for i in s.indicators])


def _dump_indicator(ind) -> dict:
    return {"id": ind.id, "level1": ind.level1, "level2": ind.level2, "name": ind.name,
            "comparator": ind.comparator.value, "target_value": ind.target_value,
            "unit": ind.unit, "weight": str(ind.weight), "scoring_method": ind.scoring_method,
            "data_source": ind.data_source, "period_value": ind.period_value,
            "template_id": ind.template_id, "review_comment": ind.review_comment}


class SheetArgs(PageArgs):
    item_id = fields.Integer(metadata={"description": "Only the sheet of this budget item"})
    year = fields.Integer()


class SheetInput(Schema):
    budget_item_id = fields.Integer(required=True)
    goal = fields.String(required=True, validate=validate.Length(max=5000))
    period_goal = fields.String(allow_none=True, load_default=None)
    version = fields.Integer(load_default=None, metadata={
        "description": "The sheet's version as read; a newer one on the server is a 409"})
    submit = fields.Boolean(load_default=False, metadata={
        "description": "Submit for review after saving (runs the quality checks)"})
    indicators = fields.List(fields.Dict(), required=True)


class TemplateSchema(Schema):
    id = fields.Integer()
    sector = fields.String()
    level1 = fields.String()
    level2 = fields.String()
    name = fields.String()
    comparator = fields.Function(lambda o: o.comparator.value)
    unit = fields.String(allow_none=True)
    reference_value = fields.String(allow_none=True)
    scoring_method = fields.String()
    usage_count = fields.Integer()


class TemplateArgs(PageArgs):
    q = fields.String(validate=validate.Length(max=100))
    sector = fields.String(validate=validate.Length(max=60))
    level2 = fields.String(validate=validate.Length(max=20))


@blp.route("/target-sheets")
@blp.arguments(SheetArgs, location="query")
@blp.response(200, page_schema(SheetSchema))
@requires("target_sheet.view")
def list_sheets(args):
    """Target sheets the caller may see, with their indicators (by item or year)."""
    stmt = select(TargetSheet).order_by(TargetSheet.id)
    if args.get("item_id"):
        stmt = stmt.where(TargetSheet.budget_item_id == args["item_id"])
    if args.get("year"):
        stmt = stmt.join(FiscalYear, FiscalYear.id == TargetSheet.fiscal_year_id).where(
            FiscalYear.year == args["year"])
    return paginate(stmt, args)


@blp.route("/target-sheets/<int:sheet_id>")
@blp.response(200, SheetSchema)
@requires("target_sheet.view")
def get_sheet(sheet_id: int):
    """One target sheet with its indicators."""
    return get_or_404(TargetSheet, sheet_id)


@blp.route("/target-sheets", methods=["POST"])
@blp.arguments(SheetInput)
@blp.response(200, SheetSchema)
@blp.alt_response(422, description="Every problem, by field")
@requires("target_sheet.edit")
def save_sheet(data):
    """Save an item's target sheet (replacing its indicators); optionally submit it.

    The same rules as the admin form and the Excel import; nothing is written
    when anything is wrong, and every problem is listed in ``details``.
    """
    item = db.session.scalar(select(BudgetItem).where(BudgetItem.id == data["budget_item_id"]))
    if item is None:
        return error_response(422, "validation_error", _("The data is not valid."),
                              {"budget_item_id": [_("Unknown budget item.")]})
    sheet = service.sheet_for(item)
    if sheet.id is not None and (conflict := stale(sheet, data.get("version"))) is not None:
        return conflict
    rules = service.rules_of(sheet)
    details: dict[str, list[str]] = {}
    cleaned_list = []
    for n, raw in enumerate(data["indicators"]):
        if isinstance(raw.get("target_value"), float) or isinstance(raw.get("weight"), float):
            details.setdefault(f"indicators.{n}", []).append(
                _("Send numbers as strings, not floats, so they stay exact."))
        cleaned, problems = clean_indicator(raw, rules)
        cleaned["template_id"] = raw.get("template_id") if isinstance(
            raw.get("template_id"), int) else None
        for p in problems:
            details.setdefault(f"indicators.{n}.{p.field}", []).append(str(p.message))
        cleaned_list.append(cleaned)
    for pos in duplicate_keys(cleaned_list):
        details.setdefault(f"indicators.{pos}.name", []).append(
            _("This indicator appears twice."))
    problem = weight_problem(cleaned_list, rules)
    if problem is not None:
        details.setdefault("indicators.weight", []).append(str(problem.message))
    if details:
        db.session.rollback()
        return error_response(422, "validation_error", _("The data is not valid."), details)
    try:
        service.replace_indicators(sheet, cleaned_list, current_user, data["goal"],
                                   data.get("period_goal"))
        db.session.flush()
        if data.get("submit"):
            service.transition(sheet, "submit", current_user)
        db.session.commit()
    except service.TargetError as exc:
        db.session.rollback()
        return error_response(422, "validation_error", _("The sheet was not saved."),
                              {"sheet": [str(p) for p in exc.problems]})
    return sheet


@blp.route("/indicator-templates")
@blp.arguments(TemplateArgs, location="query")
@blp.response(200, page_schema(TemplateSchema))
@requires("indicator_template.view")
def list_templates(args):
    """The indicator library, most used first; search by name, sector, level-2 category."""
    stmt = select(IndicatorTemplate).order_by(IndicatorTemplate.usage_count.desc(),
                                              IndicatorTemplate.id)
    if args.get("q"):
        stmt = stmt.where(IndicatorTemplate.name.contains(args["q"], autoescape=True))
    if args.get("sector"):
        stmt = stmt.where(IndicatorTemplate.sector == args["sector"])
    if args.get("level2"):
        stmt = stmt.where(IndicatorTemplate.level2 == args["level2"])
    return paginate(stmt, args)
