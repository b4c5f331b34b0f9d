"""Audit: every insert, update and delete of every model, hash-chained.

Changes are collected in ``before_flush`` (values before, read from the
database when the session does not hold them, e.g. on an expired object) and
written in ``after_flush`` (values after, primary keys known) on the same
connection, so an entry exists exactly when its change is committed. Bulk ORM
``INSERT``/``UPDATE``/``DELETE`` statements, which bypass the flush, are logged
as one ``bulk_*`` entry holding the statement and its parameters.

The chain's tip lives in the one ``audit_head`` row, which each writer locks
first (``SELECT … FOR UPDATE`` on PostgreSQL, a no-op update on SQLite): that
lock keeps the chain linear under concurrent writers on both. The log itself is append-only through the ORM (mapper events
refuse updates and deletes); tampering behind the ORM's back breaks the chain,
which ``verify`` (``flask jixiao audit verify``) detects.
"""

from __future__ import annotations

import contextvars
import enum
import hashlib
import json
import math
import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from flask import has_request_context
from sqlalchemy import Text, bindparam, cast, event, func, insert, inspect, select, update
from sqlalchemy.orm import ORMExecuteState, Session

from core.models.audit import AuditHead, AuditLog
from core.models.base import utcnow

GENESIS = "0" * 64
REDACTED = "***"
#: Columns never written to the log in clear (a model may add ``__audit_secret__``).
SECRET_COLUMNS = frozenset({"password_hash", "session_token", "token_hash"})
_EXCLUDED = {"audit_log", "audit_head", "alembic_version"}
_APPEND_ONLY = {"audit_log", "audit_head"}
_PENDING = "jixiao_audit_pending"

#: Who acts outside a request (CLI, jobs): ``(user_id, username)``.
actor_var: contextvars.ContextVar[tuple[int | None, str]] = contextvars.ContextVar(
    "jixiao_audit_actor", default=(None, "system"))


class AuditError(PermissionError):
    """An attempt to change or remove an audit entry."""


# --- values -------------------------------------------------------------------

def _json_value(value: Any) -> Any:
    """A JSON-native form of ``value`` (recursively); what is hashed is what is stored."""
    if isinstance(value, enum.Enum):
        return _json_value(value.value)
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return format(value, "f") if value.is_finite() else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, bytes | bytearray | memoryview):
        return "sha256:" + hashlib.sha256(bytes(value)).hexdigest()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): v if type(v) in _PLAIN else _json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [v if type(v) in _PLAIN else _json_value(v) for v in value]
    return str(value)


#: values that are their own JSON form (a bulk entry holds 100,000s of them)
_PLAIN = frozenset({str, int, bool, type(None)})


class _Plain(dict):
    """A dict already in its JSON form: text keys, and values JSON gives back unchanged."""


def _canonical(value: Any) -> Any:
    """Exactly what the JSON column gives back after a round trip (both backends): the JSON
    of ``_json_value(value)`` (the encoder asks it only for what JSON has no form of)."""
    if type(value) is _Plain:
        return value
    try:
        return json.loads(json.dumps(value, ensure_ascii=False, allow_nan=False,
                                     default=_json_value))
    except ValueError:  # NaN or infinity: ``_json_value`` spells them as text
        return json.loads(json.dumps(_json_value(value), ensure_ascii=False))


def _secrets(obj: Any) -> frozenset[str]:
    cls = obj if isinstance(obj, type) else type(obj)
    return SECRET_COLUMNS | frozenset(getattr(cls, "__audit_secret__", ()))


def _export(obj: Any, values: dict[str, Any]) -> dict[str, Any]:
    """Raw column values → JSON-safe, secrets redacted (an empty secret stays visible).

    ``obj``: the instance, or its model class."""
    secret = _secrets(obj)
    return {k: REDACTED if k in secret and v else _json_value(v) for k, v in values.items()}


def snapshot(obj: Any) -> dict[str, Any]:
    """The column values of a model instance, JSON-safe, secrets redacted."""
    mapper = inspect(obj).mapper
    return _export(obj, {attr.key: getattr(obj, attr.key, None) for attr in mapper.column_attrs})


def _raw_before(session: Session, obj: Any) -> dict[str, Any]:
    """Every column's value as it is in the database now, before this flush.

    Loaded or changed attributes keep their old value in the attribute history;
    an expired or deferred one (or one set without its old value being loaded)
    is read from the database, outside the ORM so no scope or autoflush applies.
    """
    state = inspect(obj)
    mapper = state.mapper
    out: dict[str, Any] = {}
    missing = []
    for attr in mapper.column_attrs:
        hist = state.attrs[attr.key].history
        if hist.deleted:
            out[attr.key] = hist.deleted[0]
        elif hist.unchanged:
            out[attr.key] = hist.unchanged[0]
        else:
            out[attr.key] = None
            missing.append(attr)
    if missing and state.identity is not None:
        row = session.connection().execute(
            select(*[attr.columns[0] for attr in missing])
            .select_from(mapper.persist_selectable)
            .where(*[col == val for col, val in zip(mapper.primary_key, state.identity,
                                                   strict=True)])).first()
        if row is not None:
            out.update((attr.key, value) for attr, value in zip(missing, row, strict=True))
    return out


def _current(obj: Any, before: dict[str, Any]) -> dict[str, Any]:
    """Column values after the flush; an attribute not in the session is unchanged."""
    state = inspect(obj)
    return {k: state.dict.get(k, before.get(k)) for k in before}


def _same(a: Any, b: Any) -> bool:
    """Equal values (``Decimal("1.0")`` and ``Decimal("1.00")`` too; NaN equals NaN)."""
    if isinstance(a, bool) != isinstance(b, bool):
        return False
    try:
        if a == b:
            return True
    except Exception:  # noqa: BLE001, S110 - incomparable values: compare their JSON form
        pass
    return type(a) is type(b) and _json_value(a) == _json_value(b)


def _actor() -> tuple[int | None, str]:
    if has_request_context():
        from flask_login import current_user

        try:
            user = current_user._get_current_object()
            if user and user.is_authenticated:
                return user.id, user.username
        except Exception:  # noqa: BLE001, S110 - during login the user may be half-loaded
            pass
        return None, "anonymous"
    return actor_var.get()


# --- hashing --------------------------------------------------------------------

_HASH_JSON = {"sort_keys": True, "ensure_ascii": False, "separators": (",", ":"),
              "default": str}


def entry_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    """sha256 of the entry's canonical JSON: ``fields`` and ``prev_hash``, keys sorted,
    compact, not ASCII-escaped. (``payload_parts`` spells the same text in pieces for
    PostgreSQL; this one ``json.dumps`` is 3 × faster, and ``verify`` hashes every entry.)"""
    payload = json.dumps({**fields, "prev_hash": prev_hash}, **_HASH_JSON)
    return hashlib.sha256(payload.encode()).hexdigest()


def payload_parts(fields: dict[str, Any]) -> tuple[str, str, str]:
    """The hashed JSON of an entry around its two chain values: the payload is
    ``head + str(id) + mid + prev_hash + tail``, exactly what ``entry_hash`` hashes (an id
    is a whole number, a hash hex digits: neither is escaped). So PostgreSQL can hash an
    entry in the statement that locks the tip (``_one_entry_statement``)."""
    parts: list[str] = []
    text = "{"
    for n, key in enumerate(sorted({*fields, "prev_hash"})):
        text += ("," if n else "") + json.dumps(key, ensure_ascii=False) + ":"
        if key == "id":
            parts.append(text)
            text = ""
        elif key == "prev_hash":
            parts.append(text + '"')
            text = '"'
        else:
            text += json.dumps(fields[key], **_HASH_JSON)
    return parts[0], parts[1], text + "}"


def hashed_fields(row: dict[str, Any]) -> dict[str, Any]:
    at = row["at"]
    if isinstance(at, datetime):
        at = at.replace(microsecond=0, tzinfo=None).isoformat()
    return {"id": row["id"], "at": at,
            "user_id": row["user_id"], "username": row["username"], "action": row["action"],
            "object_type": row["object_type"], "object_id": row["object_id"],
            "before": row["before"], "after": row["after"]}


def _tablename(obj: Any) -> str:
    return getattr(obj, "__tablename__", type(obj).__name__)


def _object_id(obj: Any) -> str:
    key = inspect(obj).mapper.primary_key_from_instance(obj)
    return ",".join("" if v is None else str(v) for v in key)


# --- session events ---------------------------------------------------------------

@event.listens_for(Session, "before_flush")
def _collect(session: Session, flush_context: Any, instances: Any) -> None:
    # A fresh list each flush: what a failed flush collected must not leak into the next.
    pending: list[tuple[str, Any, dict[str, Any] | None]] = []
    session.info[_PENDING] = pending
    for obj in session.new:
        if _tablename(obj) not in _EXCLUDED:
            pending.append(("create", obj, None))
    for obj in session.dirty:
        if _tablename(obj) in _EXCLUDED or not session.is_modified(obj, include_collections=False):
            continue
        pending.append(("update", obj, _raw_before(session, obj)))
    for obj in session.deleted:
        if _tablename(obj) not in _EXCLUDED:
            pending.append(("delete", obj, _raw_before(session, obj)))


@event.listens_for(Session, "after_flush")
def _write(session: Session, flush_context: Any) -> None:
    pending = session.info.pop(_PENDING, [])
    if not pending:
        return
    user_id, username = _actor()
    rows = []
    for action, obj, raw_before in pending:
        before = after = None
        if action == "create":
            after = snapshot(obj)
        elif action == "delete":
            before = _export(obj, raw_before)
        else:
            raw_after = _current(obj, raw_before)
            changed = sorted(k for k in raw_after if not _same(raw_before[k], raw_after[k]))
            if not changed:
                continue
            before = _export(obj, {k: raw_before[k] for k in changed})
            after = _export(obj, {k: raw_after[k] for k in changed})
        rows.append({"user_id": user_id, "username": username, "action": action,
                     "object_type": _tablename(obj), "object_id": _object_id(obj),
                     "before": before, "after": after})
    append(session.connection(), rows)


@event.listens_for(Session, "do_orm_execute")
def _bulk(state: ORMExecuteState) -> None:
    """Bulk ORM INSERT/UPDATE/DELETE statements bypass the flush: log the statement itself."""
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    mapper = state.bind_mapper
    target = getattr(state.statement, "table", None)  # a Core statement on a Table: name it
    table = mapper.local_table.name if mapper is not None \
        else target.name if isinstance(getattr(target, "name", None), str) else "?"
    if table in _APPEND_ONLY:
        raise AuditError("The audit log is written by core.audit only.")
    if table in _EXCLUDED:
        return
    try:
        compiled = state.statement.compile()
    except KeyError:  # an ORM bulk INSERT (a list of dicts) compiles only when executed
        compiled = (mapper.local_table if mapper is not None else target).insert().compile()
    params: Any = dict(compiled.params)
    if isinstance(state.parameters, dict):
        params.update(state.parameters)
    elif state.parameters:  # executemany: one dict per row
        params = {"rows": list(state.parameters)}
    action = "bulk_update" if state.is_update else "bulk_delete" if state.is_delete \
        else "bulk_insert"
    batch = state.execution_options.get(DIGEST_OPTION)
    if batch is not None:
        log_digest(state.session.connection(), action, table, str(compiled), batch,
                   state.parameters, dict(compiled.params))
        return
    user_id, username = _actor()
    append(state.session.connection(), [{
        "user_id": user_id, "username": username, "action": action, "object_type": table,
        "object_id": "*", "before": None, "after": {"sql": str(compiled), "params": params}}])


def log_digest(connection: Any, action: str, table: str, sql: str, batch: str, rows: Any,
               params: dict[str, Any] | None = None) -> None:
    """Log one bulk statement of many rows as one digest entry (``digest_entry``), as the
    current actor. For statements run outside the ORM (``core.services.bulk``)."""
    if table in _APPEND_ONLY:
        raise AuditError("The audit log is written by core.audit only.")
    user_id, username = _actor()
    entry = digest_entry(sql, batch, rows, params)
    if _plain_json(entry):
        entry = _Plain(entry)  # a year's scores: 20,000 rows not parsed back for nothing
    append(connection, [{
        "user_id": user_id, "username": username, "action": action, "object_type": table,
        "object_id": "*", "before": None, "after": entry}])


def _plain_json(entry: dict[str, Any]) -> bool:
    """Is a digest entry its own JSON form? Its keys are names of bind parameters (text);
    its values are, if they are text, whole numbers, booleans, None and lists of them."""
    return all(type(v) in _PLAIN for part in ("same", "params") for v in entry[part].values()) \
        and all(type(v) in _PLAIN for row in entry["values"] for v in row)


def log_created(connection: Any, model: type, stored: Any) -> None:
    """The ``create`` entry of a row written outside the flush (``stored``: its columns
    as the database returned them), exactly as the flush would have logged it."""
    table = model.__table__
    if table.name in _EXCLUDED:
        return
    user_id, username = _actor()
    append(connection, [{
        "user_id": user_id, "username": username, "action": "create",
        "object_type": table.name,
        "object_id": ",".join("" if stored[c] is None else str(stored[c])
                              for c in table.primary_key.columns),
        "before": None,
        "after": _export(model, {attr.key: stored[attr.columns[0]]
                                 for attr in inspect(model).column_attrs})}])


def refuse_append_only(table_name: str) -> None:
    """Raise unless ``table_name`` may be written outside ``core.audit``."""
    if table_name in _APPEND_ONLY:
        raise AuditError("The audit log is written by core.audit only.")


#: Execution option of a bulk statement to log as a digest entry; its value names the batch.
DIGEST_OPTION = "audit_digest"


def rows_digest(rows: list[dict[str, Any]]) -> str:
    """sha256 of a bulk statement's parameter rows, as canonical JSON (keys sorted, compact).

    What a digest entry holds: anyone with the rows (the list of dicts of an
    executemany) recomputes it with this function.
    """
    payload = json.dumps(rows, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                         default=_json_value)
    return hashlib.sha256(payload.encode()).hexdigest()


def digest_entry(sql: str, batch: str, rows: Any,
                 params: dict[str, Any] | None = None) -> dict[str, Any]:
    """A bulk write of many rows logged compactly: each row's values, and their digest.

    The statement, the batch's name, the statement's own parameters (``params``:
    those no row sets, e.g. a ``values(scored_at=…)``), and the rows' values:
    ``same`` holds the values every row shares, ``columns``/``values`` one compact
    list per row of the others (``logged_rows`` reads them back). ``sha256`` is
    ``rows_digest`` of the rows. The entry is hash-chained like every other
    (``verify`` checks it), so a figure changed later in the table differs from
    the one logged here.
    """
    rows = list(rows) if isinstance(rows, list | tuple) else [rows] if rows else []
    first = rows[0] if rows else {}
    same = {k: v for k, v in first.items() if all(r.get(k) == v for r in rows)}
    columns = [k for k in first if k not in same]
    fixed = {k: v for k, v in (params or {}).items() if k not in first}
    return {"sql": sql, "batch": str(batch), "rows": len(rows), "params": fixed,
            "same": same, "columns": columns,
            "values": [[r.get(k) for k in columns] for r in rows],
            "sha256": rows_digest(rows)}



def _refuse(mapper: Any, connection: Any, target: Any) -> None:
    raise AuditError("The audit log is append-only: entries are written by core.audit "
                     "and never updated or deleted.")


for _model in (AuditLog, AuditHead):
    event.listen(_model, "before_update", _refuse)
    event.listen(_model, "before_delete", _refuse)
event.listen(AuditLog, "before_insert", _refuse)


# --- the chain --------------------------------------------------------------------

_READ_HEAD = select(AuditHead.__table__.c.last_id, AuditHead.__table__.c.last_hash).where(
    AuditHead.__table__.c.id == 1)
_LOCK_HEAD = _READ_HEAD.with_for_update()  # built once: compiled once


def _lock_head(connection: Any) -> tuple[int, str]:
    """Lock the chain's tip (creating it once, race-free) for this transaction; its values."""
    head_t = AuditHead.__table__
    read = _READ_HEAD
    if connection.dialect.name == "postgresql":
        head = connection.execute(_LOCK_HEAD).first()
        if head is not None:
            return head.last_id, head.last_hash
    # SQLite has no FOR UPDATE: a write takes the database's write lock
    bump = update(head_t).where(head_t.c.id == 1).values(last_id=head_t.c.last_id)
    if connection.execute(bump).rowcount:
        head = connection.execute(read).one()
        return head.last_id, head.last_hash
    values = {"id": 1, "last_id": 0, "last_hash": GENESIS}
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        connection.execute(pg_insert(head_t).values(**values).on_conflict_do_nothing())
    elif connection.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        connection.execute(sqlite_insert(head_t).values(**values).on_conflict_do_nothing())
    else:
        connection.execute(insert(head_t).values(**values))
    connection.execute(bump)
    head = connection.execute(read).one()
    return head.last_id, head.last_hash


def append(connection: Any, rows: list[dict[str, Any]]) -> None:
    """Append entries to the chain on ``connection`` (inside the caller's transaction)."""
    if not rows:
        return
    now = utcnow().replace(microsecond=0)
    if connection.dialect.name == "postgresql" and len(rows) == 1 \
            and _append_one(connection, rows[0], now):
        return
    head_t = AuditHead.__table__
    last_id, prev = _lock_head(connection)
    values = []
    for row in rows:
        last_id += 1
        full = {**row, "id": last_id, "at": now,
                "before": _canonical(row["before"]), "after": _canonical(row["after"])}
        digest = entry_hash(prev, hashed_fields(full))
        values.append({**full, "prev_hash": prev, "entry_hash": digest})
        prev = digest
    connection.execute(insert(AuditLog.__table__), values)
    connection.execute(update(head_t).where(head_t.c.id == 1)
                       .values(last_id=last_id, last_hash=prev))


def _append_one(connection: Any, row: dict[str, Any], now: datetime) -> bool:
    """One entry in one statement (PostgreSQL): lock the tip, hash the entry with the
    tip's values (``payload_parts``; ``sha256`` in the database), insert it and move
    the tip. False when there is no tip yet (the caller's path creates it)."""
    full = {**row, "id": 0, "at": now,
            "before": _canonical(row["before"]), "after": _canonical(row["after"])}
    head, mid, tail = payload_parts(hashed_fields(full))
    params = {f"e_{k}": full[k] for k in _ENTRY_COLUMNS}
    return connection.execute(_ONE_ENTRY, {**params, "p_head": head, "p_mid": mid,
                                           "p_tail": tail}).first() is not None


_ENTRY_COLUMNS = ("at", "user_id", "username", "action", "object_type", "object_id",
                  "before", "after")


def _one_entry_statement() -> Any:
    """Lock the tip (``FOR UPDATE``: after a wait, the row as the other writer left it),
    insert the entry with the tip's next id and hash, move the tip to it: one statement,
    built once (so compiled once). Returns a row when the entry was written."""
    log_t, head_t = AuditLog.__table__, AuditHead.__table__
    tip = (select(head_t.c.last_id, head_t.c.last_hash).where(head_t.c.id == 1)
           .with_for_update().cte("tip"))
    new_id = tip.c.last_id + 1
    payload = (bindparam("p_head", type_=Text) + cast(new_id, Text) + bindparam("p_mid", type_=Text)
               + tip.c.last_hash + bindparam("p_tail", type_=Text))
    digest = func.encode(func.sha256(func.convert_to(payload, "UTF8")), "hex")
    entry = insert(log_t).from_select(
        ["id", *_ENTRY_COLUMNS, "prev_hash", "entry_hash"],
        select(new_id, *[bindparam(f"e_{name}", type_=log_t.c[name].type)
                         for name in _ENTRY_COLUMNS], tip.c.last_hash, digest),
    ).returning(log_t.c.id, log_t.c.entry_hash).cte("new_entry")
    # ``last_id < id`` links the two (the tip only moves on); it holds for the version the
    # statement's snapshot sees and for the one ``tip`` locked, which the update re-checks
    return (update(head_t).where(head_t.c.id == 1, head_t.c.last_id < entry.c.id)
            .values(last_id=entry.c.id, last_hash=entry.c.entry_hash)
            .returning(head_t.c.last_id))


_ONE_ENTRY = _one_entry_statement()
