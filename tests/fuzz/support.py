"""Helpers of the fuzz tests: demo users of every role, their API tokens, table counts."""

from __future__ import annotations

import hashlib

from sqlalchemy import func, select

from core.extensions import db
from tests.support import bearer, new_token  # noqa: F401 - the fuzz tests' helpers

#: one demo user per role (README): username → role
ROLES = {"finance": "finance_admin", "dept01": "dept_admin", "unit0101": "unit_user",
         "town01": "dept_admin (town)", "expert01": "expert", "agency01": "agency_user",
         "viewer": "viewer"}


def snapshot(app, *tables: str) -> dict[str, object]:
    """Every row of ``tables`` (hashed) and the audit log's size and last entry.

    Equal snapshots before and after a refused write mean nothing was written,
    not even an audit entry.
    """
    out: dict[str, object] = {}
    with app.app_context(), db.engine.connect() as conn:
        for name in tables:
            table = db.metadata.tables[name]
            order = [c for c in table.primary_key.columns] or list(table.columns)[:1]
            digest = hashlib.sha256()
            count = 0
            for row in conn.execute(select(table).order_by(*order)):
                digest.update(repr(tuple(row)).encode())
                count += 1
            out[name] = (count, digest.hexdigest())
        audit = db.metadata.tables["audit_log"]
        out["audit_log"] = conn.execute(select(func.count(), func.max(audit.c.id))).one()
    return out
