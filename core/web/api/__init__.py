"""The JSON API under /api/v1 (flask-smorest), shared by the core and plugins.

Plugins add blueprints through ``jixiao_api(api)``, built with ``ApiBlueprint``
and protected per route with ``@requires("<permission>")``. Lists use
``core.web.api.pagination``. Rows are scoped by ``core.scope`` like everywhere else.

Authentication, for every ``ApiBlueprint`` route:

- ``Authorization: Bearer <token>`` (a personal API token, ``core.tokens``): the
  token alone decides, for this request only — no session is read or made, and
  no CSRF token is needed (a browser never adds the header by itself). A
  missing, revoked or expired token, or one of an inactive user, is a 401
  ``invalid_token`` with ``details.reason``; there is no fallback to the session.
  ``g.jixiao_api_token_id`` names the token of such a request; its session cookie,
  if any, is not read (``TokenRequestSessions``).
- otherwise the login session, with the CSRF token (``X-CSRFToken``) on unsafe
  methods.

Every error under /api/v1 has the one format of ``core.web.api.errors``.
"""

from __future__ import annotations

import json
from functools import wraps

from flask import Flask, after_this_request, current_app, g, request
from flask.sessions import SecureCookieSessionInterface
from flask_babel import gettext as _
from flask_login import current_user
from flask_smorest import Api
from flask_smorest import Blueprint as _SmorestBlueprint
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from core.extensions import csrf, db
from core.models import STALE_RECORD
from core.permissions import can
from core.scope import ScopeError, reset_principal
from core.web.api.errors import ErrorSchema, error_response, http_error_response
from core.web.api.fields import bound_integers, document_decimal_strings

PREFIX = "/api/v1"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
BEARER = "bearerAuth"
SESSION = "sessionCookie"


class ApiBlueprint(_SmorestBlueprint):
    """A flask-smorest blueprint whose every route requires a logged-in user or a token."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        csrf.exempt(self)
        self.before_request(_authenticate)
        self.register_error_handler(ScopeError, _scope_error)
        self.register_error_handler(IntegrityError, _conflict)
        self.register_error_handler(StaleDataError, _conflict)

    def arguments(self, schema, **kwargs):
        """flask-smorest's ``arguments``; every integer is kept in the database's range.

        A schema class is made an instance here, once: webargs would otherwise build a
        new instance for every request (the OpenAPI document is the same either way)."""
        if isinstance(schema, type):
            schema = schema()
        bound_integers(schema)
        return super().arguments(schema, **kwargs)

    @staticmethod
    def _prepare_response_doc(doc, doc_info, *, api, spec, **kwargs):
        responses = doc_info.setdefault("response", {}).setdefault("responses", {})
        for status, name in ((401, "UNAUTHORIZED"), (403, "FORBIDDEN")):
            responses.setdefault(status, []).append(name)
        return _SmorestBlueprint._prepare_response_doc(doc, doc_info, api=api, spec=spec,
                                                       **kwargs)


def _unauthorized(code: str, message: str, details: dict | None = None):
    return error_response(401, code, message, details,
                          headers={"WWW-Authenticate": 'Bearer realm="jixiao"'})


TOKEN_MESSAGES = {
    "malformed": lambda: _("Send the token as 'Authorization: Bearer <token>'."),
    "unknown": lambda: _("This API token is not valid."),
    "revoked": lambda: _("This API token has been revoked."),
    "expired": lambda: _("This API token has expired."),
    "user_inactive": lambda: _("The account of this API token is disabled."),
}


def _token_login(header: str):
    """Authenticate this request with the Bearer token in ``header``; an error response or None."""
    from core import tokens

    scheme, _sep, credential = header.strip().partition(" ")
    credential = credential.strip()
    if scheme.lower() != "bearer" or not credential or " " in credential:
        return _unauthorized("invalid_token", TOKEN_MESSAGES["malformed"](),
                             {"reason": "malformed"})
    result = tokens.check(credential)
    if not result.ok:
        return _unauthorized("invalid_token", TOKEN_MESSAGES[result.reason](),
                             {"reason": result.reason})
    g._login_user = result.user  # Flask-Login's per-request user: nothing goes to the session
    g.jixiao_api_token_id = result.token_id
    reset_principal()

    @after_this_request
    def record_use(response):
        if response.status_code < 400:
            tokens.touch(result.token_id, result.last_used_at)
        return response

    return None


def _authenticate():
    header = request.headers.get("Authorization")
    if header is not None:
        refused = _token_login(header)
        if refused is not None:
            return refused
    elif not current_user.is_authenticated:
        return _unauthorized("unauthorized", _("Login or an API token is required."))
    elif request.method not in SAFE_METHODS:
        try:
            csrf.protect()
        except CSRFError as exc:
            return error_response(400, "csrf", _("The CSRF token is missing or invalid."),
                                  {"reason": exc.description})
    if request.endpoint and request.method != "OPTIONS":
        # a route that forgot @requires is closed, not open to every logged-in user; the
        # permission is checked before the arguments, so a refused caller learns nothing
        permission = _route_permission()
        if not permission or not can(current_user, permission):
            return error_response(403, "forbidden",
                                  _("You do not have permission for this action."),
                                  {"permission": permission})
        g.jixiao_permitted = permission  # ``requires`` needs not ask again in this request
    return _refuse_bad_json() or _refuse_nul()


_NO_BODY = object()


def _json_body():
    """The request's JSON body, parsed once per request (``_NO_BODY``: none to parse)."""
    if request.method in SAFE_METHODS or not request.is_json:
        return _NO_BODY
    body = request.get_data(cache=True)
    if not body.strip():
        return _NO_BODY
    return json.loads(body)


def _refuse_bad_json():
    """A JSON body that does not parse is refused before any route code runs."""
    try:
        g.jixiao_json_body = _json_body()
    except ValueError as exc:
        return error_response(400, "bad_json", _("The request body is not valid JSON."),
                              {"json": [str(exc)]})
    return None


def _nul_field(value, path: str = "_body") -> str | None:
    """The dotted path of the first JSON text holding a NUL character, or None."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    items = value.items() if isinstance(value, dict) else \
        enumerate(value) if isinstance(value, list) else ()
    for key, inner in items:
        name = str(key) if path == "_body" else f"{path}.{key}"
        if "\x00" in str(key):
            return name.replace("\x00", "")
        found = _nul_field(inner, name)
        if found is not None:
            return found
    return None


def _refuse_nul():
    """Text with a NUL character (PostgreSQL cannot store or compare it) is a 422."""
    where: dict[str, list[str]] = {}
    for name, value in request.args.items(multi=True):
        if "\x00" in name or "\x00" in value:
            where.setdefault("query", []).append(name.replace("\x00", ""))
    body = g.get("jixiao_json_body", _NO_BODY)
    field = None if body is _NO_BODY else _nul_field(body)
    if field is not None:
        where["json"] = [field]
    if not where:
        return None
    message = _("Text may not contain the NUL character (\\u0000).")  # only when refusing
    return error_response(422, "validation_error", message,
                          {location: {name: [message] for name in names}
                           for location, names in where.items()})


def _route_permission() -> str | None:
    view = current_app.view_functions.get(request.endpoint)
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        method = "get" if request.method == "HEAD" else request.method.lower()
        view = getattr(view_class, method, None)
    return getattr(view, "_jixiao_permission", None)


def _scope_error(exc: ScopeError):
    db.session.rollback()
    return error_response(403, "forbidden", str(exc), {"reason": "scope"})


def _conflict(exc: Exception):
    db.session.rollback()
    return error_response(409, "conflict", _("Nothing was saved: the change conflicts with "
                                             "other records (a duplicate, a record still in "
                                             "use, or someone else's newer change)."))


def requires(permission: str):
    """Route decorator: the user must hold ``permission`` (checked with ``core.permissions.can``)."""

    def decorator(fn):
        @wraps(fn)
        def wrapper(*args, **kwargs):
            if g.get("jixiao_permitted") != permission and not can(current_user, permission):
                return error_response(403, "forbidden",
                                      _("You do not have permission for this action."),
                                      {"permission": permission})
            return fn(*args, **kwargs)

        wrapper._jixiao_permission = permission  # type: ignore[attr-defined]
        return wrapper

    return decorator


class JixiaoApi(Api):
    """flask-smorest's ``Api`` answering errors under /api/v1 in the one format.

    Its error handler is registered for the whole app; outside /api/v1 the error
    is left to Flask (the usual HTML error page).
    """

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error):
        if not _is_api_request():
            return error
        return http_error_response(error)


def stale(obj, version):
    """A 409 answer when the client edited ``version`` of ``obj`` and it has moved on, else None.

    ``version`` None (the client sent none) is no conflict; the ORM's version
    check at flush still catches a race after this point.
    """
    if version is None or obj is None or getattr(obj, "version", None) == version:
        return None
    return error_response(409, "conflict", str(STALE_RECORD), {"version": [obj.version]})


def get_or_404(model, pk: int):
    """``model`` row ``pk`` read through the row scope; a 404 when missing or out of scope."""
    from flask_smorest import abort
    from sqlalchemy import inspect, select

    column = inspect(model).primary_key[0]
    row = db.session.scalar(select(model).where(column == pk))
    if row is None:
        abort(404)
    return row


class TokenRequestSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, except for an API request with an ``Authorization``
    header: the token alone decides for it (see above), so its session cookie is not even
    read, and nothing can be written to it (a null session: empty, and writing raises)."""

    def open_session(self, app, request):
        if "Authorization" in request.headers and _is_api_path(request.path):
            return self.make_null_session(app)
        return super().open_session(app, request)


def _is_api_path(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


def _is_api_request() -> bool:
    return _is_api_path(request.path)


def init_api(app: Flask, hooks) -> Api:
    api = JixiaoApi(app, spec_kwargs={
        "info": {"description": "Jixiao budget performance API. Authenticate with a personal "
                                "API token (Authorization: Bearer <token>) or the login "
                                "session (plus X-CSRFToken on unsafe methods). Every error "
                                "has the body {code, message, details}."},
        "security": [{BEARER: []}, {SESSION: []}],
    })
    api.spec.components.security_scheme(BEARER, {
        "type": "http", "scheme": "bearer",
        "description": "A personal API token (jx_…): `flask jixiao token create USERNAME` "
                       "or My API tokens in the admin."})
    api.spec.components.security_scheme(SESSION, {
        "type": "apiKey", "in": "cookie", "name": app.config.get("SESSION_COOKIE_NAME",
                                                                 "session")})
    api.ma_plugin.converter.add_attribute_function(document_decimal_strings)
    app.session_interface = TokenRequestSessions()
    hooks.api(api=api)
    app.extensions["jixiao_api"] = api
    app.extensions.setdefault("jixiao_api_prefix", PREFIX)
    return api


__all__ = ["PREFIX", "ApiBlueprint", "current_app", "error_response", "get_or_404", "requires"]
