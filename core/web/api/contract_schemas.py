"""API schemas of the ``core.contracts`` views that more than one plugin's API answers
with (plugins never import each other, so the shape lives here once)."""

from __future__ import annotations

from marshmallow import Schema, fields

from core.web.api.fields import UtcDateTime


class EvaluationResultSchema(Schema):
    """A finalized evaluation result (``core.contracts.EvaluationResult``): as the
    evaluation plugin lists it, and as disclosure stores and publishes it."""

    id = fields.Integer()
    kind = fields.String()
    object_kind = fields.String()
    fiscal_year = fields.Integer()
    org_unit_id = fields.Integer()
    title = fields.String()
    budget_item_ids = fields.List(fields.Integer())
    amount = fields.Decimal(as_string=True)
    score = fields.Decimal(as_string=True)
    grade = fields.String()
    finalized_at = UtcDateTime()
    summary = fields.String()
