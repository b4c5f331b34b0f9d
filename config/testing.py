"""Settings for the test suite: the database comes from JIXIAO_TEST_DATABASE_URL."""

from config.default import *  # noqa: F403

TESTING = True
SECRET_KEY = "testing-secret"  # noqa: S105
# plugins installed in the venv are not part of the suite: the example plugin's tests
# (tests/core/test_plugins.py) switch entry points on for their own apps
LOAD_ENTRYPOINT_PLUGINS = False
# the suite logs in (and fails on purpose) many times from 127.0.0.1; tests of the limits lower them
LOGIN_RATE_LIMIT = "10000 per minute"
LOGIN_ADDRESS_RATE_LIMIT = "10000 per minute"
API_AUTH_RATE_LIMIT = "10000 per minute"
API_AUTH_ADDRESS_RATE_LIMIT = "10000 per minute"
