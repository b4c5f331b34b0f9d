"""``GET /attachments/<id>``: a file for a logged-in user holding ``attachment.view``.

The row is read through the ORM, so the row scope applies and a file outside the
user's scope is a 404 like a missing one.
"""

from __future__ import annotations

from flask import Blueprint, abort
from flask_login import current_user, login_required
from sqlalchemy import select

from core.extensions import db
from core.models import Attachment
from core.permissions import can
from core.services.attachments import send_attachment

bp = Blueprint("attachments", __name__)


@bp.route("/attachments/<int:attachment_id>")
@login_required
def download(attachment_id: int):
    if not can(current_user, "attachment.view"):
        abort(403)
    attachment = db.session.execute(
        select(Attachment).where(Attachment.id == attachment_id)).scalar_one_or_none()
    if attachment is None:  # missing, or outside the user's scope: the same answer
        abort(404)
    return send_attachment(attachment)
