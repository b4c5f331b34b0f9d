"""Personal API tokens: made once, shown once, stored only as a SHA-256 hash.

Issuing and revoking them is in ``core.services.api_tokens``. ``check(plaintext)``
says whose token it is, or why it is refused: ``unknown``, ``revoked``,
``expired`` or ``user_inactive``. ``touch`` records ``last_used_at`` at most once a minute, outside
the ORM session (its own short transaction, so a read-only request stays
read-only and the audit log is not filled with "token used" entries).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, inspect, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import make_transient_to_detached

from core.extensions import db
from core.models import ApiToken, User, utcnow
from core.permissions import grants_of, remember
from core.plugins import hooks
from core.scope import remember_agency

TOKEN_PREFIX = "jx_"  # noqa: S105 - a marker, not a secret
#: characters of the plaintext kept in ``ApiToken.prefix`` to tell tokens apart
SHOWN_CHARS = 10
TOUCH_INTERVAL = timedelta(minutes=1)
NAME_MAX = 100

logger = logging.getLogger(__name__)

UNKNOWN, REVOKED, EXPIRED, USER_INACTIVE = "unknown", "revoked", "expired", "user_inactive"


def hash_token(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


@dataclass(frozen=True)
class TokenCheck:
    """The answer of ``check``: the user and token, or the reason for refusing."""

    user: User | None = None
    token_id: int | None = None
    last_used_at: datetime | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.reason is None


def status(token: Any, now: datetime | None = None) -> str:
    """``active``, ``revoked`` or ``expired`` (of an ``ApiToken`` or a row with its dates)."""
    now = now or utcnow()
    if token.revoked_at is not None:
        return REVOKED
    if token.expires_at is not None and token.expires_at <= now:
        return EXPIRED
    return "active"


#: the user's columns a token request reads (permissions, scope, audit, names); the others
#: are loaded by the ORM, in one statement, if something reads one
USER_COLUMNS = ("id", "username", "full_name", "role_id", "org_unit_id", "active")


def _check_statement(hooks):
    """The token, its user with the user's role and org unit, the role's permissions and
    the user's agency (``jixiao_principal_agency_column``, when a plugin answers): one Core
    statement, built once per app (so compiled once), outside the ORM and the row scope."""
    from core.models import OrgUnit, Role

    token_t, user_t = ApiToken.__table__, User.__table__
    role_t, org_t = Role.__table__, OrgUnit.__table__
    agency = hooks.principal_agency_column(user_id=user_t.c.id)
    extra = [] if agency is None else [agency.label("principal_agency")]
    return (select(token_t.c.id.label("token_id"), token_t.c.expires_at, token_t.c.revoked_at,
                   token_t.c.last_used_at,
                   *[user_t.c[name].label(f"user_{name}") for name in USER_COLUMNS],
                   *[c.label(f"role_{c.key}") for c in role_t.c],
                   *[c.label(f"org_{c.key}") for c in org_t.c],
                   grants_of(user_t.c.role_id).label("grants"), *extra)
            .select_from(token_t)
            .outerjoin(user_t, user_t.c.id == token_t.c.user_id)
            .outerjoin(role_t, role_t.c.id == user_t.c.role_id)
            .outerjoin(org_t, org_t.c.id == user_t.c.org_unit_id)
            .where(token_t.c.token_hash == bindparam("token_hash")))


def _persistent(model: type, row: Any, prefix: str, **related: Any) -> Any:
    """``model``'s row from the ``prefix``-ed columns of ``row`` as a persistent instance of
    the session, without an ORM query: it behaves as if the ORM had loaded it, the columns
    ``row`` lacks as expired ones (loaded on first use); an instance the session already
    holds is used as it is."""
    session = db.session
    mapper = inspect(model)
    mapping = row._mapping
    values = {attr.key: mapping[label] for attr in mapper.column_attrs
              if (label := f"{prefix}{attr.columns[0].key}") in mapping}
    key = mapper.identity_key_from_primary_key([values[c.key] for c in mapper.primary_key])
    held = session.identity_map.get(key)
    if held is not None:
        return held
    obj = model(**values, **related)
    make_transient_to_detached(obj)
    session.add(obj)
    return obj


def check(plaintext: str) -> TokenCheck:
    """Whose token ``plaintext`` is, or why it is refused (read outside any row scope).

    One Core statement reads the token, the user, their role and org unit and the
    role's permissions; the user is put in the session as if the ORM had loaded it
    (no ORM query and no scope option for a row the token already names)."""
    if not plaintext.startswith(TOKEN_PREFIX) or len(plaintext) > 200:
        return TokenCheck(reason=UNKNOWN)
    statement = current_app.extensions.get("jixiao_token_check")
    if statement is None:
        statement = current_app.extensions["jixiao_token_check"] = _check_statement(hooks())
    found = db.session.connection().execute(
        statement, {"token_hash": hash_token(plaintext)}).first()
    if found is None:
        return TokenCheck(reason=UNKNOWN)
    state = status(found)
    if state != "active":
        return TokenCheck(token_id=found.token_id, reason=state)
    if found.user_id is None or not found.user_active:
        return TokenCheck(token_id=found.token_id, reason=USER_INACTIVE)
    from core.models import OrgUnit, Role

    role = _persistent(Role, found, "role_") if found.role_id is not None else None
    org = _persistent(OrgUnit, found, "org_") if found.org_id is not None else None
    user = _persistent(User, found, "user_", role=role, org_unit=org)
    remember(user.role_id, found.grants)  # the role's permissions, read in the same statement
    if "principal_agency" in found._fields:  # the agency for the scope, likewise
        remember_agency(user.id, found.principal_agency)
    return TokenCheck(user=user, token_id=found.token_id, last_used_at=found.last_used_at)


def touch(token_id: int, last_used_at: datetime | None) -> None:
    """Record that the token was used, unless that was recorded less than a minute ago."""
    now = utcnow()
    if last_used_at is not None and now - last_used_at < TOUCH_INTERVAL:
        return
    table = ApiToken.__table__
    try:
        with db.engine.begin() as conn:  # not the session: no audit entry, no request transaction
            conn.execute(update(table).where(
                table.c.id == token_id,
                (table.c.last_used_at.is_(None)) | (table.c.last_used_at < now - TOUCH_INTERVAL))
                .values(last_used_at=now, updated_at=table.c.updated_at))
    except SQLAlchemyError:  # a busy database must not fail the request for a usage stamp
        logger.warning("could not record the use of API token %s", token_id, exc_info=True)
