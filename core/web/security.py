"""HTTP security for every response: headers (Flask-Talisman) and rate limits (Flask-Limiter).

Headers (docs/security.md says why each is what it is):

- ``Content-Security-Policy``: scripts only from this site or with the request's
  nonce (Flask-Admin puts ``admin_csp_nonce_attribute`` on its inline scripts);
  the few inline event handlers of Flask-Admin and our templates are allowed by
  their hash (``'unsafe-hashes'``), listed in ``INLINE_HANDLERS``. Styles allow
  ``'unsafe-inline'``: Flask-Admin's widgets (select2, x-editable) and our
  templates write ``style`` attributes, and a style cannot run code.
- ``X-Frame-Options: DENY`` and ``frame-ancestors 'none'``; ``nosniff``;
  ``Referrer-Policy: same-origin``; HSTS only on a request that came over HTTPS.

Behind a reverse proxy, ``TRUSTED_PROXIES`` (how many proxies append to X-Forwarded-For)
makes the client's address, scheme and host those the proxies saw (Werkzeug's ``ProxyFix``;
X-Forwarded-Proto/-Host are set once, by the outermost proxy); 0 ignores the headers, so a
client cannot pick its own address. ProxyFix trusts whoever connects: gunicorn's port must
be reachable only from the proxy.

Rate limits count only failures, in the storage named by ``RATELIMIT_STORAGE_URI``
(``memory://`` by default; ``redis://…`` for several gunicorn workers):
``LOGIN_RATE_LIMIT`` for refused username/password pairs per client address *and*
username (so in an office behind one NAT address one person's typos lock out only
that name), ``LOGIN_ADDRESS_RATE_LIMIT`` a much higher ceiling per address (a spray
over many names); a CSRF or form error counts for neither. ``API_AUTH_RATE_LIMIT``
counts API requests answered 401 per address and token prefix (per address without a
token), ``API_AUTH_ADDRESS_RATE_LIMIT`` per address. Over a limit the UI shows a page
and the API answers 429 in its error format, both with ``Retry-After``.
"""

from __future__ import annotations

import base64
import hashlib
import math
import time

from flask import Flask, current_app, g, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from flask_talisman import Talisman
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix

#: inline event handlers (and ``javascript:`` links) our pages carry; each is allowed by hash.
INLINE_HANDLERS = (
    "this.form.submit()",  # agency_fees: a year / schedule <select> submits its form
    "window.print()",  # agency_fees: print buttons
    "return false;",  # Flask-Admin: filter menu items
    "javascript:void(0)",  # Flask-Admin: dropdown and tab links
)
#: Flask-Admin's delete button: ``return faHelpers.safeConfirm('<translated question>');``
_DELETE_CONFIRM = "return faHelpers.safeConfirm('{}');"
_DELETE_QUESTION = "Are you sure you want to delete this record?"
_ACTION = "return modelActions.execute('{}');"  # a list view's action menu
_ADD_INLINE = "faForm.addInlineField(this, '{}');"  # "add" under an inline form list


def csp_nonce() -> str:
    """This request's CSP nonce (made by Talisman before the view runs)."""
    return getattr(request, "csp_nonce", "")


def _sha256(source: str) -> str:
    return f"'sha256-{base64.b64encode(hashlib.sha256(source.encode()).digest()).decode()}'"


def _handler_sources(app: Flask) -> list[str]:
    """Every inline handler our pages can carry: the fixed ones, plus Flask-Admin's that
    name a view's actions, its inline form lists, or the delete question in each language."""
    from flask_admin.babel import gettext as admin_gettext
    from sqlalchemy import inspect

    sources = list(INLINE_HANDLERS)
    with app.test_request_context():
        for language in app.config["LANGUAGES"]:
            with force_locale(language):
                sources.append(_DELETE_CONFIRM.format(admin_gettext(_DELETE_QUESTION)))
    for admin in app.extensions.get("admin", []):
        for view in admin._views:
            sources += [_ACTION.format(name) for name, _text in getattr(view, "_actions", ())]
            inline = [spec[0] if isinstance(spec, tuple) else getattr(spec, "model", spec)
                      for spec in getattr(view, "inline_models", None) or ()]
            if inline:
                sources += [_ADD_INLINE.format(rel.key)
                            for rel in inspect(view.model).relationships
                            if rel.mapper.class_ in inline]
    return sorted(set(sources))


def content_security_policy(app: Flask) -> dict[str, str | list[str]]:
    return {
        "default-src": "'self'",
        "script-src": ["'self'", "'unsafe-hashes'",
                       *(_sha256(source) for source in _handler_sources(app))],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }


def init_security(app: Flask) -> Limiter:
    """Add the security headers and the rate limits to ``app`` (after its blueprints)."""
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies:  # the client's address and scheme as the reverse proxy saw them
        # every proxy appends to X-Forwarded-For; only the outermost sets -Proto and -Host
        # (the inner ones pass them on), so those carry one value (docs/operations.md)
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=1,  # type: ignore[method-assign]
                                x_host=1)
    Talisman(
        app,
        force_https=False,  # TLS ends at the reverse proxy; it redirects
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        session_cookie_samesite=app.config["SESSION_COOKIE_SAMESITE"],
        frame_options="DENY",
        content_security_policy=content_security_policy(app),
        content_security_policy_nonce_in=["script-src"],
        referrer_policy="same-origin",
        strict_transport_security_include_subdomains=False,
        permissions_policy={"geolocation": "()", "camera": "()", "microphone": "()"},
    )
    _no_nonce_for_api(app)
    return _init_rate_limits(app)


def _no_nonce_for_api(app: Flask) -> None:
    """API routes answer JSON (or a file), never a page with a script: their responses get
    the same policy without a nonce, and no nonce is made for them."""
    from core.web.api import ApiBlueprint

    api = tuple(f"{name}." for name, bp in app.blueprints.items() if isinstance(bp, ApiBlueprint))
    for endpoint, view in app.view_functions.items():
        if endpoint.startswith(api):
            options = getattr(view, "talisman_view_options", {})
            options["content_security_policy_nonce_in"] = []
            view.talisman_view_options = options


#: longest username (``LoginForm``) that goes into a rate-limit key
_USERNAME_KEY_CHARS = 64


def _login_key() -> str:
    """The client address and the submitted username (lower-case, trimmed, bounded)."""
    username = (request.form.get("username") or "").strip().lower()[:_USERNAME_KEY_CHARS]
    return f"{get_remote_address()}|{username}"


def _api_key() -> str:
    """The client address and the public prefix of the Bearer token sent, if any."""
    from core.tokens import SHOWN_CHARS

    scheme, _sep, credential = (request.headers.get("Authorization") or "").strip().partition(" ")
    credential = credential.strip()
    if scheme.lower() == "bearer" and credential:
        return f"{get_remote_address()}|{credential[:SHOWN_CHARS]}"
    return get_remote_address()


def _login_failed(_response) -> bool:
    """A username and password were checked and refused (not a CSRF or form error)."""
    from core.web.login import LOGIN_FAILED

    return bool(g.get(LOGIN_FAILED))


def _config(name: str):
    return lambda: current_app.config[name]


def _init_rate_limits(app: Flask) -> Limiter:
    from core.web.api import ApiBlueprint

    limiter = Limiter(get_remote_address, app=app)
    login = app.view_functions["auth.login"]
    for limit, key in (("LOGIN_RATE_LIMIT", _login_key),
                       ("LOGIN_ADDRESS_RATE_LIMIT", get_remote_address)):
        login = limiter.limit(_config(limit), key_func=key, methods=["POST"],
                              deduct_when=_login_failed)(login)
    app.view_functions["auth.login"] = login

    def api_failed(response) -> bool:
        return response.status_code == 401

    limits = [limiter.shared_limit(_config(limit), scope=scope, key_func=key,
                                   deduct_when=api_failed)
              for limit, scope, key in (
                  ("API_AUTH_RATE_LIMIT", "api_auth", _api_key),
                  ("API_AUTH_ADDRESS_RATE_LIMIT", "api_auth_address", get_remote_address))]
    for blueprint in list(app.blueprints.values()):
        if isinstance(blueprint, ApiBlueprint):
            for limit in limits:
                limit(blueprint)
    app.register_error_handler(RateLimitExceeded, _too_many)
    app.register_error_handler(RequestEntityTooLarge, _too_large)
    return limiter


def _back() -> str:
    """Where the page's "back" link goes: the previous page on this site, else the home page."""
    target = request.referrer or ""
    return target if target.startswith(request.host_url) else url_for("home")


def _refused(title: str, message: str, status: int, headers: dict[str, str]):
    return (render_template("errors/refused.html", title=title, message=message, back=_back()),
            status, headers)


def _too_many(error: RateLimitExceeded):
    retry_after = _retry_after(error)
    message = _("Too many failed attempts from this address. "
                "Try again in %(seconds)s seconds.", seconds=retry_after)
    headers = {"Retry-After": str(retry_after)}
    if request.path.startswith("/api/"):
        from core.web.api.errors import error_response

        return error_response(429, "too_many_requests", message,
                              {"retry_after": retry_after, "limit": str(error.limit.limit)},
                              headers=headers)
    return _refused(_("Too many attempts"), message, 429, headers)


def _too_large(error: RequestEntityTooLarge):
    """A request over ``MAX_CONTENT_LENGTH``: said in the user's language, nothing saved."""
    if request.path.startswith("/api/"):
        from core.web.api.errors import http_error_response

        return http_error_response(error)
    limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
    size = f"{limit / 1024 / 1024:g} MB" if limit >= 1024 * 1024 else f"{limit / 1024:g} KB"
    return _refused(_("Too large"), _("The upload is too large: a request may carry at most "
                                      "%(limit)s. Nothing was saved.", limit=size), 413, {})


def _retry_after(error: RateLimitExceeded) -> int:
    """Seconds until the breached limit's window lets the next attempt through."""
    for limiter in current_app.extensions.get("limiter", ()):
        current = limiter.current_limit
        if current is not None:
            return max(1, math.ceil(current.window.reset_time - time.time()))
    return int(error.limit.limit.get_expiry())
