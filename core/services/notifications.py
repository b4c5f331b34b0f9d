"""Notifications: a short message to one user, shown under "My notifications".

``notify(user_id, title, body, link)`` adds one to the current session (the
caller commits, so a notification exists exactly when the change it reports
does). ``link`` must be a path inside the application ("/admin/…"), never an
outside address. Each user sees only their own notifications
(``Notification.scope_criteria``), the finance bureau included.

E-mail (optional): when ``MAIL_SERVER`` is set, a notification to a user who chose
``notify_by_email`` and has an address is also sent by mail (Flask-Mail), after the
transaction commits: a mail that fails is logged and lost, never the notification
or the change it reports.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from flask_mail import Mail, Message
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from core.extensions import db
from core.models import Notification, User, utcnow

mail = Mail()
log = logging.getLogger(__name__)
_OUTBOX = "jixiao_mail_outbox"

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
    if has_app_context() and current_app.config.get("MAIL_SERVER"):
        _queue_mail(user_id, note)
    return note


def _queue_mail(user_id: int, note: Notification) -> None:
    row = db.session.execute(select(User.email, User.notify_by_email).where(User.id == user_id)
                             .execution_options(jixiao_unscoped=True)).first()  # any recipient
    if row is not None and row.notify_by_email and row.email:
        link = current_app.config.get("MAIL_SITE_URL", "").rstrip("/") + (note.link or "")
        text = "\n\n".join(part for part in (note.body, link if note.link else "") if part)
        db.session.info.setdefault(_OUTBOX, []).append((row.email, note.title, text))


@event.listens_for(Session, "after_commit")
def _send_mail(session: Session) -> None:
    for address, subject, text in session.info.pop(_OUTBOX, []):
        try:
            mail.send(Message(subject=subject, recipients=[address], body=text))
        except Exception:  # noqa: BLE001 - a mail server down never undoes a committed change
            log.exception("notification mail to %s failed", address)


@event.listens_for(Session, "after_rollback")
def _drop_mail(session: Session) -> None:
    session.info.pop(_OUTBOX, None)


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


def mark_all_read(user_id: int) -> int:
    """Mark every unread notification of ``user_id`` read; how many were."""
    ids = db.session.scalars(select(Notification.id).where(
        Notification.user_id == user_id, Notification.read_at.is_(None))).all()
    return mark_read(ids)


__all__ = ["NotificationError", "mail", "mark_all_read", "mark_read", "notify", "notify_all",
           "unread_count"]
