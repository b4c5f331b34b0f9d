"""The two pages around a long action: "confirm what will change", then its progress.

A plugin's action answers GET with :func:`confirm` (what will change, with the
count) and POST with :func:`start` (``core.services.background.start`` as the
logged-in person, then the job's progress page, served by the system plugin).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import redirect, request, url_for
from flask_login import current_user

from core.services import background


def confirm(view: Any, title: str, lines: Iterable[str], *, back: str, allowed: bool = True,
            **fields: Any) -> str:
    """The confirmation page: ``title``, what will change (``lines``), a start button
    posting ``fields`` back to this URL (disabled when not ``allowed``), and Cancel."""
    return view.render("jixiao/confirm_job.html", title=title, lines=list(lines), back=back,
                       allowed=allowed, fields=fields, action=request.path)


def start(kind: str, title: str, func: Callable[..., str], params: dict[str, Any], *,
          back: str):
    """Start ``func(progress, **params)`` as the logged-in person; show its progress page."""
    job = background.start(kind, title, func, current_user.id, params, link=back)
    return redirect(url_for("backgroundjob.progress", id=job.id))
