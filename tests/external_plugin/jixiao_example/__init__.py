"""jixiao-example: the smallest complete Jixiao plugin.

It adds a permission, an admin page under its own menu group, a web page at
/example/hello, an API route /api/v1/example/greeting, a ``flask jixiao
example-hello`` command, a home-page card and a scheduled job ``example-tick``.
It has no table of its own, so it needs no migration. It imports only the core.
"""

from __future__ import annotations

import click
from flask import Blueprint, abort, current_app, render_template
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from marshmallow import Schema, fields, validate

from core.contracts import Widget
from core.permissions import STAFF, Permission, can
from core.plugins import hookimpl
from core.web.admin.base import ScopedPage
from core.web.api import ApiBlueprint, requires

PERMISSION = "example.view"

bp = Blueprint("jixiao_example", __name__, url_prefix="/example", template_folder="templates")


@bp.route("/hello")
@login_required  # the core's login manager sends anonymous users to /login
def hello():
    if not can(current_user, PERMISSION):
        abort(403)
    return render_template("jixiao_example/hello.html",
                           greeting=current_app.config["EXAMPLE_GREETING"])


class ExamplePage(ScopedPage):
    """An admin page without a model; ``permission`` "example" means ``example.view``."""

    permission = "example"

    @expose("/")
    def index(self):
        return self.render("jixiao_example/admin.html",
                           greeting=current_app.config["EXAMPLE_GREETING"])


@hookimpl
def jixiao_config(config):
    config.setdefault("EXAMPLE_GREETING", "Hello from the example plugin")


@hookimpl
def jixiao_permissions():
    return [Permission(PERMISSION, "Example plugin: view", STAFF)]


@hookimpl
def jixiao_admin_views(admin, db):
    admin.add_view(ExamplePage(name=_l("Example page"), category=_l("Example"),
                               endpoint="example_page", url="example"))


@hookimpl
def jixiao_blueprints(app):
    app.register_blueprint(bp)


# --- an API route: login or token, permission and error format come from ApiBlueprint ---

api_bp = ApiBlueprint("example_api", __name__, url_prefix="/api/v1/example",
                      description="Example plugin")


class GreetingArgs(Schema):
    name = fields.String(load_default="world", validate=validate.Length(min=1, max=50))


class GreetingSchema(Schema):
    greeting = fields.String()


@api_bp.route("/greeting")
@api_bp.arguments(GreetingArgs, location="query")
@api_bp.response(200, GreetingSchema)
@requires(PERMISSION)
def greeting(args):
    """The greeting for ``name`` (default "world")."""
    return {"greeting": f"{current_app.config['EXAMPLE_GREETING']}, {args['name']}!"}


@hookimpl
def jixiao_api(api):
    api.register_blueprint(api_bp)


@hookimpl
def jixiao_cli(group):
    @group.command("example-hello")
    @click.option("--name", default="world", help="Whom to greet.")
    def example_hello(name: str):
        """Print a greeting (shows that a plugin can add commands)."""
        click.echo(f"{current_app.config['EXAMPLE_GREETING']}, {name}!")


@hookimpl
def jixiao_dashboard_widgets(user):
    if not can(user, PERMISSION):
        return []
    return [Widget(_("Example card"), "1", _("from the example plugin"),
                   link="/example/hello", order=90, tone="info")]


# --- a scheduled job: runs in `flask jixiao scheduler`, once per period -----------------

def example_tick(run):
    """Notify the user named by EXAMPLE_JOB_NOTIFY with the greeting, once per period."""
    from sqlalchemy import select

    from core.extensions import db
    from core.models import User
    from core.services.notifications import notify

    username = current_app.config.get("EXAMPLE_JOB_NOTIFY", "")
    user_id = username and db.session.scalar(select(User.id).where(User.username == username))
    if not user_id:
        return "nobody to notify"
    notify(user_id, f"{current_app.config['EXAMPLE_GREETING']} ({run.period})")
    return f"notified {username}"


@hookimpl
def jixiao_jobs(scheduler):
    # every EXAMPLE_JOB_SECONDS (default one hour); the period is that interval
    scheduler.add_job("example-tick", example_tick, trigger="interval",
                      seconds=int(current_app.config.get("EXAMPLE_JOB_SECONDS", 3600)))
