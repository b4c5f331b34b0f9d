"""Issuing personal API tokens (the kernel's ``core.tokens`` checks them on each request).

``create_token(user, name, expires_at)`` returns the plaintext (``jx_…``) and the
new ``ApiToken`` (added to the session; the caller commits); ``revoke`` marks a
token revoked (kept for the record).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from core.extensions import db
from core.models import ApiToken, User, utcnow
from core.tokens import NAME_MAX, SHOWN_CHARS, TOKEN_PREFIX, hash_token


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


def revoke(token: ApiToken) -> bool:
    """Revoke ``token`` (in the session; the caller commits). False if it already was."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    return True
