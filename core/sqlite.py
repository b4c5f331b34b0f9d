"""Make SQLite SAVEPOINTs real, and switch on foreign keys.

Python's sqlite3 driver (before 3.12's ``autocommit``) opens a transaction only
before a write. A SAVEPOINT issued outside a transaction starts one of its own,
and releasing it commits, so ``session.begin_nested()`` (all-or-nothing imports,
workflow transitions) would not be undone by a later rollback. Before the
first SAVEPOINT we therefore send BEGIN when no transaction is open. Reads keep
the driver's behaviour (each sees the latest committed data, as on PostgreSQL
under READ COMMITTED).
"""

from __future__ import annotations

import sqlite3

from sqlalchemy import event
from sqlalchemy.engine import Engine


@event.listens_for(Engine, "connect")
def _on_connect(dbapi_connection, connection_record) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()


@event.listens_for(Engine, "savepoint")
def _on_savepoint(conn, name) -> None:
    if conn.dialect.name != "sqlite":
        return
    raw = conn.connection.dbapi_connection
    if raw is not None and not raw.in_transaction:
        conn.exec_driver_sql("BEGIN")
