"""Fields of API schemas whose JSON form needs care: times in UTC, exact decimals, ids.

- ``UtcDateTime``: the database keeps naive UTC times (``core.models.utcnow``);
  plain ``fields.DateTime`` wrote them without an offset, which is no RFC 3339
  ``date-time`` and reads as local time. This writes ``…+00:00``.
- ``fields.Decimal(as_string=True)`` (money, rates) is a JSON string, so the
  OpenAPI document must say ``string`` (``document_decimal_strings``, registered
  with the spec by ``core.web.api.init_api``), not apispec's default ``number``.
- ``bound_integers(schema)`` gives every ``Integer`` field of an argument schema
  (nested ones too) the database's INTEGER range (``core.db_int``), so a larger
  number is a 422 naming the field, not a driver error; ``ApiBlueprint.arguments``
  calls it for every schema, and the range shows in the OpenAPI document.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from marshmallow import Schema, fields, validate

from core.db_int import INT_MAX, INT_MIN

DECIMAL_PATTERN = r"^-?\d+(\.\d+)?$"


class UtcDateTime(fields.DateTime):
    """An ISO 8601 time with its offset; a naive value is taken as UTC."""

    def _serialize(self, value: datetime | None, attr: Any, obj: Any, **kwargs: Any):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return super()._serialize(value, attr, obj, **kwargs)


def document_decimal_strings(_converter: Any, field: fields.Field, **_kwargs: Any) -> dict:
    """apispec attribute function (bound to its converter): a ``Decimal`` written as a
    string is a string."""
    if isinstance(field, fields.Decimal) and field.as_string:
        return {"type": "string", "format": "decimal", "pattern": DECIMAL_PATTERN}
    return {}


class _DbRange(validate.Range):
    """The marker of the range added here (added once per field)."""


def _bound_field(field: fields.Field, seen: set[int]) -> None:
    if isinstance(field, fields.Integer):
        if not any(isinstance(v, _DbRange) for v in field.validators):
            field.validators.append(_DbRange(min=INT_MIN, max=INT_MAX))
    elif isinstance(field, fields.Nested):
        nested = field.nested
        if isinstance(nested, type) and issubclass(nested, Schema):
            bound_integers(nested, seen)
        elif isinstance(nested, Schema):
            bound_integers(nested, seen)
    elif isinstance(field, fields.List):
        _bound_field(field.inner, seen)
    elif isinstance(field, fields.Tuple):
        for inner in field.tuple_fields:
            _bound_field(inner, seen)
    elif isinstance(field, fields.Dict) and field.value_field is not None:
        _bound_field(field.value_field, seen)


def bound_integers(schema: type[Schema] | Schema, seen: set[int] | None = None) -> None:
    """Add the INTEGER range to every ``Integer`` field of ``schema`` (class or instance)."""
    seen = set() if seen is None else seen
    if id(schema) in seen:
        return
    seen.add(id(schema))
    declared = schema.fields if isinstance(schema, Schema) else schema._declared_fields
    for field in declared.values():
        _bound_field(field, seen)
