"""Fields of API schemas whose JSON form needs care: times in UTC, exact decimals.

- ``UtcDateTime``: the database keeps naive UTC times (``core.models.utcnow``);
  plain ``fields.DateTime`` wrote them without an offset, which is no RFC 3339
  ``date-time`` and reads as local time. This writes ``…+00:00``.
- ``fields.Decimal(as_string=True)`` (money, rates) is a JSON string, so the
  OpenAPI document must say ``string`` (``document_decimal_strings``, registered
  with the spec by ``core.api.init_api``), not apispec's default ``number``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from marshmallow import fields

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
