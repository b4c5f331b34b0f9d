"""The workbench: 待办 (what waits for the person in the selected year), the year switch
and the navigation badges (tasks, unread notifications).

Each stage plugin lists its tasks through ``jixiao_tasks``; this module only asks,
groups them by stage (``jixiao_stage``) and counts them, once per request.
"""

from __future__ import annotations

from itertools import groupby
from typing import Any

from flask import Blueprint, flash, g, jsonify, redirect, render_template, request, session, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from core.contracts import Stage, Task
from core.extensions import db
from core.models import FiscalYear
from core.models.fiscal import YEAR_KEY
from core.plugins import hooks
from core.scope import current_principal
from core.services.notifications import unread_count
from core.web.admin.base import ScopedPage

bp = Blueprint("workbench", __name__)
OTHER = Stage("", _l("Other"), 1000)


def my_tasks() -> list[Task]:
    """The tasks of the signed-in person in the selected year (asked once per request)."""
    if "jixiao_tasks" not in g:
        principal, year = current_principal(), FiscalYear.current()
        g.jixiao_tasks = [] if principal is None or year is None else \
            hooks().tasks(principal=principal, year=year.year)
    return g.jixiao_tasks


def grouped(tasks: list[Task]) -> list[tuple[Stage, list[Task]]]:
    """Tasks by stage in stage order; within a stage, overdue first, then by due date."""
    stages = hooks().stages()
    def stage_of(task: Task) -> Stage:
        return stages.get(task.stage, OTHER)
    ordered = sorted(tasks, key=lambda t: (stage_of(t).order, not t.overdue,
                                            t.due is None, t.due or 0, str(t.title)))
    return [(stage, list(items)) for stage, items in groupby(ordered, key=stage_of)]


def nav() -> dict[str, Any]:
    """What the navigation bar shows at once: the selected year and the years to choose."""
    if not current_user.is_authenticated:
        return {}
    if "jixiao_nav" not in g:  # the bar and the home page's title ask: read once a request
        year = FiscalYear.current()
        years = db.session.scalars(select(FiscalYear.year).order_by(FiscalYear.year.desc()))
        g.jixiao_nav = {"year": year.year if year else None, "years": years.all()}
    return g.jixiao_nav


@bp.route("/workbench/counts")
@login_required
def counts():
    """The badges' numbers (asked by the page once it is shown): tasks and unread notes."""
    return jsonify(tasks=sum(t.count for t in my_tasks()), unread=unread_count(current_user.id))


@bp.route("/workbench/tasks")
@login_required
def tasks_block():
    """The home page's 待办 block, fetched once the page is shown (like the badges): the
    stage cards do not wait for every stage's tasks. Empty when nothing waits."""
    return render_template("admin/task_block.html", groups=grouped(my_tasks()))


class TasksPage(ScopedPage):
    """待办: every task of the person, grouped by stage, overdue first."""

    permission = "dashboard"

    def is_visible(self) -> bool:  # reached from the navigation bar's badge, not the menu
        return False

    @expose("/")
    def index(self):
        year = FiscalYear.current()
        return self.render("admin/tasks.html", groups=grouped(my_tasks()), year=year)


@bp.route("/year/<int:year>", methods=["POST"])
@login_required
def choose_year(year: int):
    """Switch the selected year; an unknown year keeps the current one and says so."""
    if db.session.scalar(select(FiscalYear.id).where(FiscalYear.year == year)) is None:
        flash(_("There is no fiscal year %(year)s; still showing the current year.",
                year=year), "warning")
    else:
        session[YEAR_KEY] = year
    target = request.referrer or url_for("admin.index")
    if not target.startswith(request.host_url):
        target = url_for("admin.index")
    return redirect(target)


def register(admin) -> None:
    admin.add_view(TasksPage(name=_l("My tasks"), endpoint="tasks", url="tasks"))
