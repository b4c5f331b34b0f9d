"""Jixiao core: the app factory. Everything stateful is made here, per app."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask
from flask.cli import AppGroup
from jinja2 import ChoiceLoader, FileSystemLoader

import config as config_pkg
from core.db_int import IdConverter
from core.extensions import babel, csrf, db, migrate

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
    """Build an app. ``config`` is an environment name or a dict of settings.

    The composition root: the one module that wires the kernel, the services, the
    web shell (``core.web.init_web``) and the plugins together.
    """
    app = Flask(__name__, instance_path=os.environ.get(
        "JIXIAO_INSTANCE_PATH", str(ROOT / "instance")), template_folder="web/templates")
    app.url_map.converters["int"] = IdConverter  # <int:…> within the database's range
    _load_config(app, config)

    from core.plugins import EXTENSION, make_manager

    hooks = make_manager(app.config.get("DISABLED_PLUGINS") or [],
                         load_entrypoints=app.config.get("LOAD_ENTRYPOINT_PLUGINS", True),
                         trace=bool(app.config.get("TRACE_HOOKS")))
    app.extensions[EXTENSION] = hooks
    hooks.config(config=app.config)
    app.config.update(config_pkg.env_overrides(dict(app.config)))
    if isinstance(config, dict):
        app.config.update(config)
    hooks.register_models()

    from core import audit, scope, sqlite  # noqa: F401 - session and engine events

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    from core.web import init_web, select_locale
    from core.web.i18n import compile_catalogs, translation_directories

    dirs = translation_directories(hooks)
    compile_catalogs(*map(Path, dirs))
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories=";".join(dirs))
    app.jinja_loader = ChoiceLoader([app.jinja_loader, *map(
        FileSystemLoader, hooks.folders("templates"))])
    init_web(app, hooks)
    app.cli.add_command(_cli(hooks))
    return app


def _cli(hooks) -> AppGroup:
    """``flask jixiao …``: every command comes from a plugin (``jixiao_cli``)."""
    group = AppGroup("jixiao", help="Jixiao administration commands.")
    hooks.cli(group=group)
    return group
