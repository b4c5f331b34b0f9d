"""Personal API tokens: made once, shown once, stored only as a SHA-256 hash.

``create_token(user, name, expires_at)`` returns the plaintext (``jx_…``) and the
new ``ApiToken`` (added to the session; the caller commits). ``check(plaintext)``
says whose token it is, or why it is refused: ``unknown``, ``revoked``,
``expired`` or ``user_inactive``. ``revoke`` marks a token revoked (kept for
the record). ``touch`` records ``last_used_at`` at most once a minute, outside
the ORM session (its own short transaction, so a read-only request stays
read-only and the audit log is not filled with "token used" entries).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError

from core.extensions import db
from core.models import ApiToken, User, utcnow
from core.permissions import grants_of, remember

TOKEN_PREFIX = "jx_"  # noqa: S105 - a marker, not a secret
#: characters of the plaintext kept in ``ApiToken.prefix`` to tell tokens apart
SHOWN_CHARS = 10
TOUCH_INTERVAL = timedelta(minutes=1)
NAME_MAX = 100

logger = logging.getLogger(__name__)

UNKNOWN, REVOKED, EXPIRED, USER_INACTIVE = "unknown", "revoked", "expired", "user_inactive"


def hash_token(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def create_token(user: User, name: str = "", expires_at: datetime | None = None,
                 ) -> tuple[str, ApiToken]:
    """A new token for ``user``: (plaintext, row). The plaintext exists only here."""
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=" ".join((name or "").split())[:NAME_MAX],
                     prefix=plaintext[:SHOWN_CHARS], token_hash=hash_token(plaintext),
                     expires_at=expires_at)
    db.session.add(token)
    db.session.flush()
    return plaintext, token


def expiry_in(days: int | None) -> datetime | None:
    """The expiry ``days`` from now (UTC, like every stored time), or None."""
    return None if not days else utcnow() + timedelta(days=days)


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


def status(token: ApiToken, now: datetime | None = None) -> str:
    """``active``, ``revoked`` or ``expired``."""
    now = now or utcnow()
    if token.revoked_at is not None:
        return REVOKED
    if token.expires_at is not None and token.expires_at <= now:
        return EXPIRED
    return "active"


def check(plaintext: str) -> TokenCheck:
    """Whose token ``plaintext`` is, or why it is refused (read outside any row scope)."""
    if not plaintext.startswith(TOKEN_PREFIX) or len(plaintext) > 200:
        return TokenCheck(reason=UNKNOWN)
    found = db.session.execute(
        select(ApiToken, User, grants_of(User.role_id))
        .outerjoin(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == hash_token(plaintext))
        .execution_options(jixiao_unscoped=True)).first()
    if found is None:
        return TokenCheck(reason=UNKNOWN)
    token, user, grants = found
    state = status(token)
    if state != "active":
        return TokenCheck(token_id=token.id, reason=state)
    if user is None or not user.is_active:
        return TokenCheck(token_id=token.id, reason=USER_INACTIVE)
    remember(user.role_id, grants)  # the role's permissions, read in the same statement
    return TokenCheck(user=user, token_id=token.id, last_used_at=token.last_used_at)


def revoke(token: ApiToken) -> bool:
    """Revoke ``token`` (in the session; the caller commits). False if it already was."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    return True


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
