"""Production: PostgreSQL through psycopg 3, secure cookies, a real secret key.

See docs/operations.md for the settings an operator sets (JIXIAO_* variables).
"""

from config.default import *  # noqa: F403

SQLALCHEMY_DATABASE_URI = "postgresql+psycopg://jixiao@localhost/jixiao"
# Per gunicorn worker process: config/gunicorn.conf.py runs 4 threads per worker, so
# 5 + 5 connections cover them with room (docs/operations.md counts connections).
SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "pool_size": 5, "max_overflow": 5,
                             "pool_recycle": 1800}
SESSION_COOKIE_SECURE = True
REMEMBER_COOKIE_SECURE = True
PRODUCTION = True
TRUSTED_PROXIES = 1  # gunicorn behind one reverse proxy (nginx); 0 if clients reach it directly
