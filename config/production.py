"""Production: PostgreSQL through psycopg 3, secure cookies, a real secret key."""

from config.default import *  # noqa: F403

SQLALCHEMY_DATABASE_URI = "postgresql+psycopg://jixiao@localhost/jixiao"
SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 10}
SESSION_COOKIE_SECURE = True
REMEMBER_COOKIE_SECURE = True
PRODUCTION = True
TRUSTED_PROXIES = 1  # gunicorn behind one reverse proxy (nginx); 0 if clients reach it directly
