"""``GET /healthz`` for load balancers, and the reverse-proxy setting ``TRUSTED_PROXIES``.

``/healthz`` needs no login and shows no data: 200 ``{"status": "ok"}`` when the
database answers ``SELECT 1``, 503 ``{"status": "unavailable"}`` when it does
not (the error goes to the log, not to the caller). It opens no session and
sets no cookie, so a load balancer polling it every few seconds costs one
pooled connection checkout.

``TRUSTED_PROXIES`` (0 by default, 1 in production) is the number of reverse
proxies / load balancers in front of the app that set ``X-Forwarded-For``,
``-Proto`` and ``-Host``. When above 0, werkzeug's ``ProxyFix`` trusts that many
hops, so
``request.remote_addr`` is the client's address (what rate limits count by),
``request.is_secure`` is true behind a TLS-terminating proxy,
and redirects point at the public host. Leave it at 0 when clients reach
gunicorn directly: the headers could then be forged.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Flask, jsonify
from sqlalchemy import text
from werkzeug.middleware.proxy_fix import ProxyFix

from core.extensions import db

log = logging.getLogger("jixiao.health")
bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:  # any failure to answer means "do not send traffic here"
        log.exception("health check: the database does not answer")
        return jsonify(status="unavailable"), 503
    return jsonify(status="ok")


def init_health(app: Flask) -> None:
    """Register ``/healthz`` and, when ``TRUSTED_PROXIES`` > 0, trust that many proxies."""
    app.register_blueprint(bp)
    hops = int(app.config.get("TRUSTED_PROXIES") or 0)
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
