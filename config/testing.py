"""Settings for the test suite: the database comes from JIXIAO_TEST_DATABASE_URL."""

from config.default import *  # noqa: F403

TESTING = True
SECRET_KEY = "testing-secret"  # noqa: S105
LOAD_ENTRYPOINT_PLUGINS = True
