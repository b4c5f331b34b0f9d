"""Settings for the test suite: the database comes from JIXIAO_TEST_DATABASE_URL."""

from config.default import *  # noqa: F403

TESTING = True
SECRET_KEY = "testing-secret"  # noqa: S105
LOAD_ENTRYPOINT_PLUGINS = True
# the suite logs in (and fails on purpose) many times from 127.0.0.1; tests of the limits lower them
LOGIN_RATE_LIMIT = "10000 per minute"
LOGIN_ADDRESS_RATE_LIMIT = "10000 per minute"
API_AUTH_RATE_LIMIT = "10000 per minute"
API_AUTH_ADDRESS_RATE_LIMIT = "10000 per minute"
