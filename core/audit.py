"""Audit: every insert, update and delete of every model, hash-chained.

Changes are collected in ``before_flush`` (values before) and written in
``after_flush`` (values after, primary keys known) on the same connection, so
an entry exists exactly when its change is committed. The chain's tip lives in
the one ``audit_head`` row, which each writer updates first: that lock keeps
the chain linear under concurrent writers on PostgreSQL and SQLite alike.
"""

from __future__ import annotations

import contextvars
import enum
import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import has_request_context
from sqlalchemy import event, inspect, insert, select, update
from sqlalchemy.orm import ORMExecuteState, Session

from core.models.audit import AuditHead, AuditLog
from core.models.base import utcnow

GENESIS = "0" * 64
REDACTED = "***"
#: Columns never written to the log in clear.
SECRET_COLUMNS = {"password_hash", "session_token", "token_hash"}
_EXCLUDED = {"audit_log", "audit_head", "alembic_version"}
_PENDING = "jixiao_audit_pending"

#: Who acts outside a request (CLI, jobs): ``(user_id, username)``.
actor_var: contextvars.ContextVar[tuple[int | None, str]] = contextvars.ContextVar(
    "jixiao_audit_actor", default=(None, "system"))


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, bytes):
        return hashlib.sha256(value).hexdigest()
    return value


def snapshot(obj: Any) -> dict[str, Any]:
    """The column values of a model instance, JSON-safe, secrets redacted."""
    mapper = inspect(obj).mapper
    out = {}
    for attr in mapper.column_attrs:
        key = attr.key
        value = getattr(obj, key, None)
        out[key] = REDACTED if key in SECRET_COLUMNS and value else _json_value(value)
    return out


def _before_values(obj: Any) -> dict[str, Any]:
    state = inspect(obj)
    out = {}
    for attr in state.mapper.column_attrs:
        hist = state.attrs[attr.key].history
        if hist.deleted:
            value = hist.deleted[0]
        elif hist.unchanged:
            value = hist.unchanged[0]
        else:
            value = None
        out[attr.key] = REDACTED if attr.key in SECRET_COLUMNS and value else _json_value(value)
    return out


def _actor() -> tuple[int | None, str]:
    if has_request_context():
        from flask_login import current_user

        try:
            if current_user and current_user.is_authenticated:
                return current_user.id, current_user.username
        except Exception:  # noqa: BLE001, S110 - during login the user may be half-loaded
            pass
        return None, "anonymous"
    return actor_var.get()


def entry_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    payload = json.dumps({**fields, "prev_hash": prev_hash}, sort_keys=True,
                         ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def _hashed_fields(row: dict[str, Any]) -> dict[str, Any]:
    at = row["at"]
    return {"id": row["id"], "at": at.isoformat() if isinstance(at, datetime) else at,
            "user_id": row["user_id"], "username": row["username"], "action": row["action"],
            "object_type": row["object_type"], "object_id": row["object_id"],
            "before": row["before"], "after": row["after"]}


def _tablename(obj: Any) -> str:
    return getattr(obj, "__tablename__", type(obj).__name__)


@event.listens_for(Session, "before_flush")
def _collect(session: Session, flush_context: Any, instances: Any) -> None:
    pending = session.info.setdefault(_PENDING, [])
    for obj in session.new:
        if _tablename(obj) not in _EXCLUDED:
            pending.append(("create", obj, None))
    for obj in session.dirty:
        if _tablename(obj) in _EXCLUDED or not session.is_modified(obj, include_collections=False):
            continue
        pending.append(("update", obj, _before_values(obj)))
    for obj in session.deleted:
        if _tablename(obj) not in _EXCLUDED:
            pending.append(("delete", obj, _before_values(obj)))


@event.listens_for(Session, "after_flush")
def _write(session: Session, flush_context: Any) -> None:
    pending = session.info.pop(_PENDING, [])
    if not pending:
        return
    user_id, username = _actor()
    rows = []
    for action, obj, before in pending:
        after = None if action == "delete" else snapshot(obj)
        if action == "update" and before is not None and after is not None:
            changed = {k for k in after if before.get(k) != after.get(k)}
            if not changed:
                continue
            before = {k: before[k] for k in sorted(changed)}
            after = {k: after[k] for k in sorted(changed)}
        identity = inspect(obj).identity
        object_id = ",".join(str(v) for v in identity) if identity else ""
        rows.append({"user_id": user_id, "username": username, "action": action,
                     "object_type": _tablename(obj), "object_id": object_id,
                     "before": before, "after": after})
    append(session.connection(), rows)


@event.listens_for(Session, "do_orm_execute")
def _bulk(state: ORMExecuteState) -> None:
    """Bulk ORM UPDATE/DELETE statements bypass the flush: log the statement itself."""
    if not (state.is_update or state.is_delete):
        return
    mapper = state.bind_mapper
    table = mapper.local_table.name if mapper is not None else "?"
    if table in _EXCLUDED:
        return
    user_id, username = _actor()
    compiled = state.statement.compile(compile_kwargs={"literal_binds": False})
    params = {k: _json_value(v) for k, v in (state.parameters or {}).items()} \
        if isinstance(state.parameters, dict) else None
    append(state.session.connection(), [{
        "user_id": user_id, "username": username,
        "action": "bulk_update" if state.is_update else "bulk_delete",
        "object_type": table, "object_id": "*",
        "before": None, "after": {"sql": str(compiled), "params": params}}])


def append(connection: Any, rows: list[dict[str, Any]]) -> None:
    """Append entries to the chain on ``connection`` (inside the caller's transaction)."""
    if not rows:
        return
    head_t = AuditHead.__table__
    log_t = AuditLog.__table__
    # Take the write lock on the head row first, then read it.
    locked = connection.execute(
        update(head_t).where(head_t.c.id == 1).values(last_id=head_t.c.last_id))
    if locked.rowcount == 0:
        connection.execute(insert(head_t).values(id=1, last_id=0, last_hash=GENESIS))
    head = connection.execute(
        select(head_t.c.last_id, head_t.c.last_hash).where(head_t.c.id == 1)).one()
    last_id, prev = head.last_id, head.last_hash
    now = utcnow().replace(microsecond=0)
    values = []
    for row in rows:
        last_id += 1
        full = {"id": last_id, "at": now, **row}
        digest = entry_hash(prev, _hashed_fields(full))
        values.append({**full, "prev_hash": prev, "entry_hash": digest})
        prev = digest
    connection.execute(insert(log_t), values)
    connection.execute(update(head_t).where(head_t.c.id == 1)
                       .values(last_id=last_id, last_hash=prev))


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    broken_id: int | None = None
    reason: str = ""


def verify(session: Session, batch: int = 5000) -> VerifyResult:
    """Walk the chain in id order; report the first entry whose link or hash is wrong."""
    log_t = AuditLog.__table__
    prev = GENESIS
    expected_id = 1
    checked = 0
    last = 0
    while True:
        rows = session.execute(select(log_t).where(log_t.c.id > last)
                               .order_by(log_t.c.id).limit(batch)).mappings().all()
        if not rows:
            break
        for row in rows:
            if row["id"] != expected_id:
                return VerifyResult(False, checked, expected_id, "missing entry")
            if row["prev_hash"] != prev:
                return VerifyResult(False, checked, row["id"], "previous hash does not match")
            digest = entry_hash(prev, _hashed_fields(dict(row)))
            if digest != row["entry_hash"]:
                return VerifyResult(False, checked, row["id"], "entry was altered")
            prev = digest
            expected_id += 1
            checked += 1
            last = row["id"]
    head = session.execute(select(AuditHead.__table__).where(AuditHead.__table__.c.id == 1)
                           ).mappings().first()
    if head is not None and (head["last_id"] != last or head["last_hash"] != prev):
        return VerifyResult(False, checked, last + 1 if head["last_id"] > last else last,
                            "entries after the last one are missing")
    return VerifyResult(True, checked)
