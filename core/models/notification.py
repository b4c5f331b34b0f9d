"""Notifications shown to one user (reminders, returned sheets, results)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models.base import TimestampMixin


class Notification(TimestampMixin, db.Model):
    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(400))
    read_at: Mapped[datetime | None] = mapped_column(DateTime)

    def __str__(self) -> str:
        return self.title

    @classmethod
    def scope_criteria(cls, principal):
        """Everyone, the finance bureau included, sees only their own notifications."""
        return cls.user_id == principal.user_id
