"""``GET /healthz`` for load balancers.

``/healthz`` needs no login and shows no data: 200 ``{"status": "ok"}`` when the
database answers ``SELECT 1``, 503 ``{"status": "unavailable"}`` when it does
not (the error goes to the log, not to the caller). It opens no session and
sets no cookie, so a load balancer polling it every few seconds costs one
pooled connection checkout.

Behind a reverse proxy, ``TRUSTED_PROXIES`` (core/web/security.py) makes the
addresses and scheme those the proxy saw.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Flask, jsonify
from sqlalchemy import text

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
    """Register ``/healthz``."""
    app.register_blueprint(bp)
