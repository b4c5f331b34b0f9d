"""gunicorn settings for production: ``gunicorn -c config/gunicorn.conf.py``.

Every value can be changed without editing this file, the gunicorn way: on the
command line (``--workers 8``) or in ``GUNICORN_CMD_ARGS`` (``"--bind
0.0.0.0:8000 --workers 8"``); both win over this file. ``WEB_CONCURRENCY`` sets
the number of workers. The app itself is configured by JIXIAO_* variables
(docs/operations.md). The scheduler is NOT run here: it is its own process
(``flask --app wsgi jixiao scheduler``).
"""

import multiprocessing
import os

wsgi_app = "wsgi:app"
bind = ["127.0.0.1:8000"]

# Processes x threads: requests wait on PostgreSQL most of the time, so a few threads
# per worker serve more users than more processes would. Database connections per
# worker: see SQLALCHEMY_ENGINE_OPTIONS in config/production.py.
workers = int(os.environ.get("WEB_CONCURRENCY") or min(2 * multiprocessing.cpu_count() + 1, 9))
worker_class = "gthread"
threads = 4

# Excel imports and exports of a whole year can take a minute; the load balancer's
# own timeout should be a little above this one.
timeout = 120
graceful_timeout = 30
# Above the idle timeout of nginx's upstream keep-alive / a cloud load balancer's.
keepalive = 75
# Recycle workers now and then (with jitter, so they do not all restart at once).
max_requests = 2000
max_requests_jitter = 200

# Logs to stdout/stderr (systemd's journal or the container's log). ``%(h)s`` is read
# after the app ran: with JIXIAO_TRUSTED_PROXIES it is the client's address as the
# trusted proxies saw it (ProxyFix rewrote REMOTE_ADDR), else the peer's. The raw
# X-Forwarded-For is not logged: its first values are whatever the client sent.
accesslog = "-"
errorlog = "-"
loglevel = "info"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
