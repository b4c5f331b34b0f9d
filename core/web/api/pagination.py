"""Pagination for every API list: ``?page=&per_page=`` in, one envelope out.

A list route takes ``PageArgs`` (or a subclass) as query arguments, answers
with ``page_schema(ItemSchema)`` and returns ``paginate(stmt, args)``::

    {"items": [...], "total": 1234, "page": 2, "per_page": 50}

plus an ``X-Total-Count`` header. ``per_page`` is at most ``API_MAX_PAGE_SIZE``
(200 by default); a larger one is a 422 ``validation_error`` naming ``per_page``.
"""

from __future__ import annotations

from flask import after_this_request, current_app
from flask_babel import gettext as _
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import Select, func, select

from core.extensions import db

DEFAULT_PAGE_SIZE = 50
MAX_PAGE = 1_000_000


def _page_size(value: int) -> None:
    limit = current_app.config.get("API_MAX_PAGE_SIZE", 200)
    if not 1 <= value <= limit:
        raise ValidationError(_("Choose a page size from 1 to %(max)d.", max=limit))


class PageArgs(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE),
                          metadata={"description": "Page number, from 1"})
    per_page = fields.Integer(load_default=DEFAULT_PAGE_SIZE, validate=_page_size, metadata={
        "description": f"Rows per page, 1 to API_MAX_PAGE_SIZE (200 unless configured); "
                       f"default {DEFAULT_PAGE_SIZE}"})


class PageSchema(Schema):
    total = fields.Integer(metadata={"description": "Rows on all pages"})
    page = fields.Integer()
    per_page = fields.Integer()


_page_schemas: dict[type, type[Schema]] = {}


def page_schema(item_schema: type[Schema]) -> type[Schema]:
    """The envelope schema of a page of ``item_schema`` (one class per item schema)."""
    if item_schema not in _page_schemas:
        name = item_schema.__name__.removesuffix("Schema") + "Page"
        _page_schemas[item_schema] = type(name, (PageSchema,), {
            "items": fields.List(fields.Nested(item_schema))})
    return _page_schemas[item_schema]


def paginate(stmt: Select, args: dict) -> dict:
    """One page of ``stmt`` (rows scoped as always) and the total, in the envelope."""
    page, per_page = args["page"], args["per_page"]
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    items = db.session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)).all()

    @after_this_request
    def total_header(response):
        response.headers["X-Total-Count"] = str(total)
        return response

    return {"items": items, "total": total, "page": page, "per_page": per_page}
