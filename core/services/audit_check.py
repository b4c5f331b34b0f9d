"""Reading the audit log back: the chain check (``flask jixiao audit verify``) and the rows
of a digest entry. The kernel (``core.audit``) writes the log; these only read it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit import GENESIS, entry_hash, hashed_fields
from core.models.audit import AuditHead, AuditLog


def logged_rows(entry: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of a digest entry's ``after`` as dicts, as logged."""
    return [{**entry["same"], **dict(zip(entry["columns"], values, strict=True))}
            for values in entry["values"]]


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
            digest = entry_hash(prev, hashed_fields(dict(row)))
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
