"""Defaults for running Jixiao on one machine with SQLite under instance/."""

from config import DEFAULT_SECRET_KEY

SECRET_KEY = DEFAULT_SECRET_KEY
SQLALCHEMY_DATABASE_URI = ""  # empty: sqlite:///<instance>/jixiao.sqlite3
SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
LANGUAGES = ["zh_Hans_CN", "en"]
DISABLED_PLUGINS: list[str] = []
LOAD_ENTRYPOINT_PLUGINS = True

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = False
REMEMBER_COOKIE_HTTPONLY = True
REMEMBER_COOKIE_SAMESITE = "Lax"
PERMANENT_SESSION_LIFETIME = 8 * 3600

LOGIN_MAX_FAILURES = 5
LOGIN_LOCKOUT_MINUTES = 15

ATTACHMENT_DIR = ""  # empty: <instance>/attachments; several servers: a shared folder
# How many reverse proxies in front set X-Forwarded-For/-Proto/-Host (0: trust no header)
TRUSTED_PROXIES = 0

# Rate limits (core/web/security.py, docs/security.md): failures per address and username
# (per address and token prefix for the API), and a higher ceiling per address.
# memory:// counts per process; with several gunicorn workers use redis://host:6379/N
RATELIMIT_STORAGE_URI = "memory://"
RATELIMIT_KEY_PREFIX = "jixiao"
# no X-RateLimit-* headers: the limits count failures only, so on a success they would
# mislead (and cost ~170 Python calls an API call); a refusal still says Retry-After
RATELIMIT_HEADERS_ENABLED = False
RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True  # Redis down: count in memory, keep logins working
LOGIN_RATE_LIMIT = "10 per minute;50 per hour"
LOGIN_ADDRESS_RATE_LIMIT = "100 per minute;1000 per hour"
API_AUTH_RATE_LIMIT = "20 per minute;200 per hour"
API_AUTH_ADDRESS_RATE_LIMIT = "100 per minute;1000 per hour"

ATTACHMENT_MAX_BYTES = 20 * 1024 * 1024
ATTACHMENT_EXTENSIONS = ["pdf", "doc", "docx", "xls", "xlsx", "png", "jpg", "jpeg", "zip", "txt"]
MAX_CONTENT_LENGTH = 25 * 1024 * 1024

WTF_CSRF_TIME_LIMIT = None
FLASK_ADMIN_SWATCH = "default"
ADMIN_PAGE_SIZE = 20

# Scheduled jobs (core/services/scheduler.py, docs/scheduler.md)
SCHEDULER_TIMEZONE = "Asia/Shanghai"
SCHEDULER_MAX_WORKERS = 4
SCHEDULER_MISFIRE_GRACE_SECONDS = 3600
JOB_CLAIM_STALE_MINUTES = 60  # a claim "running" longer than this may be taken over
DEADLINE_REMINDER_DAYS = [7, 1]  # remind this many days before a stage deadline

API_TITLE = "Jixiao API"
API_VERSION = "v1"
OPENAPI_VERSION = "3.0.3"
OPENAPI_URL_PREFIX = "/api/v1"
OPENAPI_JSON_PATH = "openapi.json"
API_MAX_PAGE_SIZE = 200
TRACE_HOOKS = False  # JIXIAO_TRACE_HOOKS=1: log every hook call, its plugins and time (core/plugins.py)

# E-mail of notifications (optional; core/services/notifications.py): empty MAIL_SERVER
# sends none. Each user chooses in-app only or also e-mail (My notifications → settings).
MAIL_SERVER = ""
MAIL_PORT = 25
MAIL_USE_TLS = False
MAIL_USE_SSL = False
MAIL_USERNAME = None
MAIL_PASSWORD = None
MAIL_DEFAULT_SENDER = "jixiao@localhost"
MAIL_SITE_URL = ""  # e.g. https://jixiao.example.gov.cn: links in mails point there
