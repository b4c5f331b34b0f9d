"""Personal API tokens: stored as a SHA-256 hash, revocable, optionally expiring."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.models.base import TimestampMixin
from core.models.user import User


class ApiToken(TimestampMixin, db.Model):
    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"),
                                         index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    #: the first characters of the token, shown so a user can tell tokens apart
    prefix: Mapped[str] = mapped_column(String(12), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped[User] = relationship()

    def __str__(self) -> str:
        return f"{self.name or self.prefix}…"

    @classmethod
    def scope_criteria(cls, principal):
        """Everyone, the finance bureau included, sees only their own tokens."""
        return cls.user_id == principal.user_id
