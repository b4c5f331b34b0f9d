"""Notifications: a short message to one user, shown under "My notifications".

``notify(user_id, title, body, link)`` adds one to the current session (the
caller commits, so a notification exists exactly when the change it reports
does). ``link`` must be a path inside the application ("/admin/…"), never an
outside address. Each user sees only their own notifications
(``Notification.scope_criteria``), the finance bureau included.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core.extensions import db
from core.models import Notification, utcnow

TITLE_MAX = 200
LINK_MAX = 400


class NotificationError(ValueError):
    """A notification that cannot be sent; the message names the field."""


def _check_link(link: str | None) -> str | None:
    link = (link or "").strip() or None
    if link is None:
        return None
    if not link.startswith("/") or link.startswith("//") or "\\" in link \
            or len(link) > LINK_MAX:
        raise NotificationError(_l("Link: must be a path inside this site, such as /admin/."))
    return link


def notify(user_id: int, title: str, body: str = "", link: str | None = None) -> Notification:
    """Queue a notification for ``user_id`` in the current session and return it."""
    title = " ".join((title or "").split())
    if not title:
        raise NotificationError(_l("Title: a notification needs a title."))
    if len(title) > TITLE_MAX:
        title = title[:TITLE_MAX - 1] + "…"
    note = Notification(user_id=user_id, title=title, body=(body or "").strip(),
                        link=_check_link(link))
    db.session.add(note)
    return note


def notify_all(user_ids: Iterable[int], title: str, body: str = "",
               link: str | None = None) -> list[Notification]:
    """The same notification to several users (each once)."""
    return [notify(uid, title, body, link) for uid in dict.fromkeys(user_ids)]


def mark_read(ids: Iterable[int]) -> int:
    """Mark notifications read; through the ORM, so a user only touches their own.

    Returns how many were newly marked.
    """
    now = utcnow()
    notes = db.session.scalars(
        select(Notification).where(Notification.id.in_(list(ids)),
                                   Notification.read_at.is_(None))).all()
    for note in notes:
        note.read_at = now
    return len(notes)


def unread_count(user_id: int) -> int:
    return db.session.scalar(
        select(db.func.count()).select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))) or 0


__all__ = ["NotificationError", "mark_read", "notify", "notify_all", "unread_count"]
