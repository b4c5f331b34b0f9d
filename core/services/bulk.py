"""Set-based passes over a whole district's rows at the speed of the driver.

For a job that reads 100,000s of rows and writes one figure back per row (the
year's self-evaluation scores), SQLAlchemy's ``Row`` objects, result processors
and per-row parameter processing cost 2–3 × the database work itself
(docs/bench.md, ``evaluation_scoring``). These helpers keep SQLAlchemy for what
it is good at — building and compiling the statement for the dialect, the
session's transaction — and hand the rows straight to and from the DB-API
cursor of that same transaction:

* ``driver_rows(session, select)`` — the rows as plain tuples, values as the
  driver gives them (``exact`` turns a NUMERIC value into a ``Decimal`` on every
  backend);
* ``driver_update(session, update, rows, batch=…)`` — an ``executemany`` of
  one statement, audited as one digest entry (``core.audit.digest_entry``) exactly
  like a bulk ORM statement with ``DIGEST_OPTION``; returns the rows changed.

Parameter values of the rows must be what the driver takes on both backends:
``int``, ``str`` (a ``Decimal`` as its text), ``None``; the statement's own
values (``values(scored_at=now)``) go through their column types.

These bypass the row scope of ``core.scope`` (an ORM listener), so they refuse
to run inside a request: they are for commands and scheduled jobs, which act
on the whole district anyway.

``insert_row(session, Model, values)`` is the one exception, for a hot request
path (a work log): one ``INSERT … RETURNING`` that the row scope's write check and
the audit log follow exactly as after a flush.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from typing import Any

from flask import has_request_context
from sqlalchemy import bindparam, insert, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select, Update

from core.audit import log_created, log_digest, refuse_append_only
from core.scope import check_writes


def _connection(session) -> Any:
    if has_request_context():
        raise RuntimeError("core.services.bulk reads and writes without row scope: use it in "
                           "commands and jobs, not in requests")
    return session.connection()


@lru_cache(maxsize=64)
def _compiled(stmt: Any, dialect_class: type) -> Any:
    """``stmt`` compiled once per dialect, with named parameters (``:name``/``%(name)s``)."""
    named = {"paramstyle": "named"} \
        if dialect_class.default_paramstyle in ("qmark", "numeric", "format") else {}
    return stmt.compile(dialect=dialect_class(**named))


def driver_rows(session, stmt: Select, params: dict[str, Any] | None = None) -> list[tuple]:
    """Every row of ``stmt`` (given ``params`` for its ``bindparam``s) as a plain tuple,
    read on the session's transaction. Pass the same statement object to reuse its SQL."""
    conn = _connection(session)
    compiled = _compiled(stmt, type(conn.dialect))
    cursor = conn.connection.cursor()
    try:
        cursor.execute(compiled.string, {**compiled.params, **(params or {})})
        return cursor.fetchall()
    finally:
        cursor.close()


def driver_update(session, stmt: Update, rows: list[dict[str, Any]], *, batch: str) -> int:
    """``executemany`` of ``stmt`` with ``rows`` (one dict of bind values each), audited as
    one digest entry naming ``batch``; returns how many rows the database changed."""
    if not rows:
        return 0
    conn = _connection(session)
    compiled = _compiled(stmt, type(conn.dialect))
    fixed = {k: v for k, v in compiled.params.items() if k not in rows[0]}
    driver_fixed = {k: _driver_value(compiled, k, v) for k, v in fixed.items()}
    params = [{**driver_fixed, **row} for row in rows] if fixed else rows
    cursor = conn.connection.cursor()
    try:
        cursor.executemany(compiled.string, params)
        changed = cursor.rowcount
    finally:
        cursor.close()
    log_digest(conn, "bulk_update", stmt.table.name, _logged_sql(stmt), batch, rows, fixed)
    return changed


@lru_cache(maxsize=64)
def _logged_sql(stmt: Any) -> str:
    return str(stmt.compile())


def _driver_value(compiled: Any, key: str, value: Any) -> Any:
    """A statement's own value (``values(scored_at=now)``) as its type stores it."""
    dialect = compiled.dialect
    process = compiled.binds[key].type.dialect_impl(dialect).bind_processor(dialect)
    return process(value) if process is not None else value


def exact(value: Any) -> Decimal | None:
    """A NUMERIC column's value as the exact ``Decimal`` (SQLite gives ints and floats)."""
    kind = type(value)
    if kind is Decimal or value is None:
        return value
    return Decimal(value) if kind is int else Decimal(repr(value))


_INSERTS: dict[Any, Any] = {}


def insert_row(session: Session, model: type, values: dict[str, Any], *,
               where: Any = None, params: dict[str, Any] | None = None) -> Any:
    """INSERT one ``model`` row with a Core statement and log its ``create`` entry.

    What a flush of ``model(**values)`` does, at a fraction of the ORM's cost: the
    column defaults, the row scope's write check (``core.scope.check_writes``; like
    the flush's, it runs after the write inside the transaction and raises
    ``ScopeError``, so the caller's rollback leaves nothing written), then the same
    audit entry as the flush writes (every column as stored, read back by
    ``RETURNING``). Returns that row (``Row``: every column as an attribute, named as
    the model's columns; no instance is made, none is put in the session).

    ``where``: a condition the database checks in the INSERT itself (``INSERT …
    SELECT … WHERE``), on bind parameters named like the keys of ``values`` or of
    ``params``; when it does not hold nothing is written and None is returned. Pass
    the same condition object each time (the statement is built once per condition).
    """
    table = model.__table__
    refuse_append_only(table.name)
    key = table, None if where is None else (id(where), tuple(values))
    held = _INSERTS.get(key)
    if held is None:
        held = _INSERTS[key] = where, _insert_statement(table, values, where)
    connection = session.connection()
    row = connection.execute(held[1], {**values, **params} if params else values).first()
    if row is None:
        return None  # ``where`` did not hold
    # like the flush's check, after the write and in its transaction: a refusal raises
    # before the commit, and the caller (every error handler) rolls the transaction back
    check_writes([row], model)
    log_created(connection, model, row._mapping)
    return row


def _insert_statement(table: Any, values: dict[str, Any], where: Any) -> Any:
    if where is None:
        return insert(table).returning(*table.c)
    names = list(values)
    chosen = select(*[bindparam(name, type_=table.c[name].type) for name in names]).where(where)
    return insert(table).from_select(names, chosen).returning(*table.c)
