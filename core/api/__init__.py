"""The JSON API under /api/v1 (flask-smorest), shared by the core and plugins.

Plugins add blueprints through ``jixiao_api(api)``, built with ``ApiBlueprint``
and protected per route with ``@requires("<permission>")``. Authentication is
the session (with CSRF on unsafe methods) — personal tokens come in the shared
services issue. Rows are scoped by ``core.scope`` like everywhere else.
"""

from __future__ import annotations

from functools import wraps

from flask import Flask, current_app, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_smorest import Api
from flask_smorest import Blueprint as _SmorestBlueprint
from flask_wtf.csrf import CSRFError

from core.api.errors import error_response
from core.extensions import csrf
from core.permissions import can

PREFIX = "/api/v1"


class ApiBlueprint(_SmorestBlueprint):
    """A flask-smorest blueprint whose every route requires a logged-in user."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        csrf.exempt(self)
        self.before_request(_authenticate)


def _authenticate():
    if not current_user.is_authenticated:
        return error_response(401, "unauthorized", _("Login or an API token is required."))
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        try:
            csrf.protect()
        except CSRFError as exc:
            return error_response(400, "csrf", _("The CSRF token is missing or invalid."),
                                  {"reason": exc.description})
    if request.endpoint and request.method != "OPTIONS" and not _route_permission():
        # a route that forgot @requires is closed, not open to every logged-in user
        return error_response(403, "forbidden", _("You do not have permission for this action."),
                              {"permission": None})
    return None


def _route_permission() -> str | None:
    view = current_app.view_functions.get(request.endpoint)
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        method = "get" if request.method == "HEAD" else request.method.lower()
        view = getattr(view_class, method, None)
    return getattr(view, "_jixiao_permission", None)


def requires(permission: str):
    """Route decorator: the user must hold ``permission`` (checked with ``core.permissions.can``)."""

    def decorator(fn):
        @wraps(fn)
        def wrapper(*args, **kwargs):
            if not can(current_user, permission):
                return error_response(403, "forbidden",
                                      _("You do not have permission for this action."),
                                      {"permission": permission})
            return fn(*args, **kwargs)

        wrapper._jixiao_permission = permission  # type: ignore[attr-defined]
        return wrapper

    return decorator


def init_api(app: Flask, pm) -> Api:
    api = Api(app, spec_kwargs={"info": {"description": "Jixiao budget performance API"}})
    pm.hook.jixiao_api(api=api)

    @app.errorhandler(404)
    def not_found(exc):
        if request.path.startswith(PREFIX):
            return error_response(404, "not_found", _("Not found."))
        return exc

    app.extensions["jixiao_api"] = api
    current_app_ext = app.extensions
    current_app_ext.setdefault("jixiao_api_prefix", PREFIX)
    return api


__all__ = ["PREFIX", "ApiBlueprint", "current_app", "error_response", "requires"]
