"""The web shell: login, the admin and the API bases, security headers, health, languages.

``init_web`` is called once by ``create_app`` after the plugins' own blueprints are in;
plugins add pages through hooks (``jixiao_admin_views``, ``jixiao_blueprints``,
``jixiao_api``) on the bases here.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from flask import Flask, redirect, request, session, url_for
from flask_babel import format_datetime

from core.extensions import login_manager


def select_locale() -> str:
    """The language of this request: the one chosen at /lang/<code>, else the default."""
    from flask import current_app

    chosen = session.get("locale") if request else None
    if chosen in current_app.config["LANGUAGES"]:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def local_minute(value: datetime | None) -> str:
    """A stored (naive UTC) time in the configured time zone, to the minute; "" for None."""
    return format_datetime(value, "yyyy-MM-dd HH:mm") if value else ""


def yuan(value: Decimal | int | None) -> str:
    """Yuan with thousands separators and two places (``1234567.8`` → ``1,234,567.80``)."""
    return "" if value is None else f"{Decimal(value):,.2f}"


def init_web(app: Flask, hooks) -> None:
    from core.web.admin.setup import init_admin
    from core.web.api import init_api
    from core.web.health import init_health
    from core.web.login import bp as login_bp
    from core.web.security import init_security

    _init_login(app)
    app.jinja_env.globals["get_locale"] = select_locale
    app.add_template_filter(local_minute)
    app.add_template_filter(yuan)
    app.register_blueprint(login_bp)
    hooks.blueprints(app=app)
    init_api(app, hooks)
    init_admin(app, hooks)
    _init_http(app)
    init_health(app)
    init_security(app)  # headers and rate limits: after every blueprint is registered


def _init_login(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"

    @login_manager.unauthorized_handler
    def unauthorized():
        if request.path.startswith("/api/"):
            from core.web.api.errors import error_response

            return error_response(401, "unauthorized", "Login or an API token is required.")
        return redirect(url_for("auth.login", next=request.full_path))


def _init_http(app: Flask) -> None:
    @app.route("/")
    def home():
        return redirect(url_for("admin.index"))

    @app.route("/lang/<code>")
    def set_language(code: str):
        if code in app.config["LANGUAGES"]:
            session["locale"] = code
        target = request.referrer or url_for("admin.index")
        if not target.startswith(request.host_url):
            target = url_for("admin.index")
        return redirect(target)
