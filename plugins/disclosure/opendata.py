"""Open data: the published content as row streams, and CSV / JSON / XLSX responses.

Every query reads only approved publications and their snapshot, never the
working tables, and runs unscoped (``jixiao_unscoped``): public content is the
same for everyone, logged in or not. Rows are fetched in batches
(``yield_per``) and written as they come, so memory stays flat however many
rows a district has.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import Response, stream_with_context
from flask_babel import gettext as _
from sqlalchemy import Select, select

from core.extensions import db
from core.models import OrgUnit, State
from core.services.excel import ExportSheet, content_disposition, xlsx_response
from plugins.disclosure.models import Publication, PublicationKind, PublishedIndicator

BATCH = 1000
PUBLIC = {"jixiao_unscoped": True, "yield_per": BATCH}
FORMATS = ("csv", "json", "xlsx")


def published(stmt: Select, year: int) -> Select:
    """Only approved publications of ``year`` (the one filter every public query uses)."""
    return stmt.where(Publication.fiscal_year == year, Publication.state == State.APPROVED,
                      Publication.published_at.is_not(None))


@dataclass(frozen=True)
class Dataset:
    name: str
    #: (JSON key, column header)
    columns: Sequence[tuple[str, Any]]

    def headers(self) -> list[str]:
        return [str(h) for _k, h in self.columns]

    def keys(self) -> list[str]:
        return [k for k, _h in self.columns]


def _datasets() -> dict[str, Dataset]:
    common = [("year", _("Year")), ("department_code", _("Department code")),
              ("department", _("Department"))]
    return {
        "targets": Dataset("targets", [
            *common, ("category", _("Category")), ("item_code", _("Item code")),
            ("item_name", _("Item name")), ("amount", _("Amount (yuan)")),
            ("goal", _("Overall goal")), ("level1", _("Level 1 indicator")),
            ("level2", _("Level 2 indicator")), ("indicator", _("Level 3 indicator")),
            ("comparator", _("Comparator")), ("target_value", _("Target value")),
            ("unit", _("Unit"))]),
        "results": Dataset("results", [
            *common, ("title", _("Evaluated object")), ("item_code", _("Item code")),
            ("evaluation_kind", _("Evaluation type")), ("amount", _("Amount (yuan)")),
            ("score", _("Score")), ("grade", _("Grade")), ("summary", _("Evaluation summary")),
            ("published_on", _("Published on"))]),
    }


def dataset(name: str) -> Dataset | None:
    return _datasets().get(name)


def target_rows(year: int, department_id: int | None = None) -> Iterator[tuple]:
    """One row per published indicator (items and policy pilots), by department and item."""
    stmt = published(select(
        Publication.fiscal_year, OrgUnit.code, OrgUnit.name, Publication.kind,
        Publication.item_code, Publication.title, Publication.amount, Publication.goal,
        PublishedIndicator.level1, PublishedIndicator.level2, PublishedIndicator.name,
        PublishedIndicator.comparator, PublishedIndicator.target_value, PublishedIndicator.unit)
        .join(PublishedIndicator, PublishedIndicator.publication_id == Publication.id)
        .join(OrgUnit, OrgUnit.id == Publication.department_id)
        .where(Publication.kind.in_((PublicationKind.ITEM_TARGETS,
                                     PublicationKind.POLICY_PILOT))), year)
    if department_id is not None:
        stmt = stmt.where(Publication.department_id == department_id)
    stmt = stmt.order_by(OrgUnit.code, Publication.kind, Publication.item_code,
                         PublishedIndicator.position).execution_options(**PUBLIC)
    for row in db.session.execute(stmt):
        yield (row[0], row[1], row[2], str(row[3]), *row[4:])


def result_rows(year: int, department_id: int | None = None) -> Iterator[tuple]:
    stmt = published(select(
        Publication.fiscal_year, OrgUnit.code, OrgUnit.name, Publication.title,
        Publication.item_code, Publication.evaluation_kind, Publication.amount,
        Publication.score, Publication.grade, Publication.summary, Publication.published_at)
        .join(OrgUnit, OrgUnit.id == Publication.department_id)
        .where(Publication.kind == PublicationKind.EVALUATION_RESULT), year)
    if department_id is not None:
        stmt = stmt.where(Publication.department_id == department_id)
    stmt = stmt.order_by(OrgUnit.code, Publication.id).execution_options(**PUBLIC)
    for row in db.session.execute(stmt):
        yield (*row[:10], row[10].date())


def _text(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _csv_body(ds: Dataset, rows: Iterator[tuple]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")  # Excel opens UTF-8 CSV with Chinese text correctly
    writer.writerow(ds.headers())
    n = 0
    for row in rows:
        writer.writerow([_text(v) for v in row])
        n += 1
        if n % BATCH == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _json_body(ds: Dataset, rows: Iterator[tuple]) -> Iterator[str]:
    keys = ds.keys()
    fields = json.dumps(dict(ds.columns), ensure_ascii=False, default=str)
    yield '{"dataset": ' + json.dumps(ds.name) + ', "fields": ' + fields + ', "rows": ['
    first = True
    for row in rows:
        item = json.dumps(dict(zip(keys, (_text(v) for v in row), strict=True)),
                          ensure_ascii=False)
        yield item if first else "," + item
        first = False
    yield "]}"


def response(ds: Dataset, rows: Iterator[tuple], fmt: str, filename: str) -> Response:
    """The rows as a download in ``fmt``; CSV and JSON stream as they are read."""
    if fmt == "xlsx":
        resp = xlsx_response([ExportSheet(ds.name, ds.headers(), rows)], f"{filename}.xlsx")
    else:
        body = _csv_body(ds, rows) if fmt == "csv" else _json_body(ds, rows)
        mimetype = "text/csv" if fmt == "csv" else "application/json"
        resp = Response(stream_with_context(body), mimetype=f"{mimetype}; charset=utf-8")
        resp.headers["Content-Disposition"] = content_disposition(
            f"{filename}.{fmt}", fallback=f"{ds.name}.{fmt}")
    resp.headers["Cache-Control"] = "public, max-age=300"
    return resp
