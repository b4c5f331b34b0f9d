"""Jixiao core: the app factory. Everything stateful is made here, per app."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask, redirect, request, session, url_for

import config as config_pkg
from core.db_int import IdConverter
from core.extensions import babel, csrf, db, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent


class ConfigError(RuntimeError):
    """The configuration is unsafe or incomplete; the app refuses to start."""


def _load_config(app: Flask, config: dict[str, Any] | str | None) -> None:
    env_name = config if isinstance(config, str) else None
    app.config.from_object(config_pkg.object_for(env_name))
    if isinstance(config, dict):
        if "ENV_OBJECT" in config:
            app.config.from_object(config_pkg.object_for(config["ENV_OBJECT"]))
        app.config.update(config)
    # settings not known yet (a plugin's) are read after the plugins' defaults, with their types
    app.config.update({k: v for k, v in config_pkg.env_overrides(dict(app.config)).items()
                       if k in app.config})
    if isinstance(config, dict):  # explicit test settings win over the environment
        app.config.update(config)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        app.config["SQLALCHEMY_DATABASE_URI"] = (
            f"sqlite:///{Path(app.instance_path) / 'jixiao.sqlite3'}")
    if app.config.get("PRODUCTION") and app.config["SECRET_KEY"] in (
            config_pkg.DEFAULT_SECRET_KEY, "", None):
        raise ConfigError("Refusing to start in production with the default SECRET_KEY: "
                          "set JIXIAO_SECRET_KEY.")


def create_app(config: dict[str, Any] | str | None = None) -> Flask:
    """Build an app. ``config`` is an environment name or a dict of settings."""
    app = Flask(__name__, instance_path=os.environ.get(
        "JIXIAO_INSTANCE_PATH", str(ROOT / "instance")), template_folder="templates")
    app.url_map.converters["int"] = IdConverter  # <int:…> within the database's range
    _load_config(app, config)

    from core.plugins import make_manager

    pm = make_manager(app.config.get("DISABLED_PLUGINS") or [],
                      load_entrypoints=app.config.get("LOAD_ENTRYPOINT_PLUGINS", True))
    app.extensions["jixiao_plugins"] = pm
    pm.hook.jixiao_config(config=app.config)
    app.config.update(config_pkg.env_overrides(dict(app.config)))
    if isinstance(config, dict):
        app.config.update(config)
    pm.hook.jixiao_register_models()

    from core import audit, budget_events, scope, sqlite  # noqa: F401 - session/engine events

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    from core.i18n import compile_catalogs, translation_directories

    dirs = translation_directories(pm)
    compile_catalogs(*map(Path, dirs))
    babel.init_app(app, locale_selector=_select_locale,
                   default_translation_directories=";".join(dirs))
    _init_login(app)
    app.jinja_env.globals["get_locale"] = _select_locale

    from core.admin.setup import init_admin
    from core.api import init_api
    from core.auth import bp as auth_bp
    from core.cli import make_cli

    app.register_blueprint(auth_bp)
    pm.hook.jixiao_blueprints(app=app)
    init_api(app, pm)
    init_admin(app, pm)
    app.cli.add_command(make_cli(pm))
    _init_http(app)
    from core.health import init_health

    init_health(app)
    from core.security import init_security

    init_security(app)  # headers and rate limits: after every blueprint is registered
    return app


def _select_locale() -> str:
    from flask import current_app

    supported = current_app.config["LANGUAGES"]
    chosen = session.get("locale") if request else None
    if chosen in supported:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def _init_login(app: Flask) -> None:
    from core.models import User

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_key: str):
        user_id, _, token = user_key.partition(":")
        if not user_id.isdigit():
            return None
        user = db.session.execute(
            db.select(User).where(User.id == int(user_id))
            .execution_options(jixiao_unscoped=True)).scalar_one_or_none()
        if user is None or not user.active or user.session_token != token:
            return None
        return user

    @login_manager.unauthorized_handler
    def unauthorized():
        if request.path.startswith("/api/"):
            from core.api.errors import error_response

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
