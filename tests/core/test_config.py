"""Configuration: per-environment modules, JIXIAO_* overrides, production safety."""

import json

import pytest

from config import env_overrides
from core import ConfigError, create_app


def test_environment_variables_override_settings_with_their_types():
    defaults = {"SQLALCHEMY_DATABASE_URI": "", "DISABLED_PLUGINS": [], "LOGIN_MAX_FAILURES": 5,
                "SESSION_COOKIE_SECURE": False, "BABEL_DEFAULT_LOCALE": "zh_Hans_CN"}
    got = env_overrides(defaults, {
        "JIXIAO_DATABASE_URL": "postgresql+psycopg://u@h/db",
        "JIXIAO_DISABLED_PLUGINS": "targets, monitoring",
        "JIXIAO_LOGIN_MAX_FAILURES": "3",
        "JIXIAO_SESSION_COOKIE_SECURE": "true",
        "JIXIAO_LANGUAGE": "en",
        "JIXIAO_INSTANCE_PATH": "/srv/jixiao",
        "OTHER_SETTING": "ignored",
    })
    assert got == {"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://u@h/db",
                   "DISABLED_PLUGINS": ["targets", "monitoring"], "LOGIN_MAX_FAILURES": 3,
                   "SESSION_COOKIE_SECURE": True, "BABEL_DEFAULT_LOCALE": "en"}


def test_a_dict_setting_is_merged_over_its_default_and_null_removes_a_key():
    defaults = {"SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "pool_size": 5,
                                              "pool_recycle": 1800}}
    got = env_overrides(defaults, {"JIXIAO_SQLALCHEMY_ENGINE_OPTIONS": json.dumps(
        {"pool_size": 10, "pool_recycle": None, "connect_args": {"prepare_threshold": None}})})
    assert got == {"SQLALCHEMY_ENGINE_OPTIONS": {
        "pool_pre_ping": True, "pool_size": 10, "connect_args": {"prepare_threshold": None}}}
    assert defaults["SQLALCHEMY_ENGINE_OPTIONS"]["pool_size"] == 5  # the default is not changed
    with pytest.raises(ValueError, match="JSON object"):
        env_overrides(defaults, {"JIXIAO_SQLALCHEMY_ENGINE_OPTIONS": "[1, 2]"})


def test_engine_options_from_the_environment_keep_pool_pre_ping(monkeypatch, database_url,
                                                                 tmp_path):
    monkeypatch.setenv("JIXIAO_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("JIXIAO_DATABASE_URL", database_url)
    monkeypatch.setenv("JIXIAO_SQLALCHEMY_ENGINE_OPTIONS", '{"pool_recycle": 600}')
    app = create_app()
    with app.app_context():
        from core.extensions import db

        assert app.config["SQLALCHEMY_ENGINE_OPTIONS"] == {"pool_pre_ping": True,
                                                          "pool_recycle": 600}
        assert db.engine.pool._pre_ping is True
        assert db.engine.pool._recycle == 600


def test_an_environment_variable_reaches_the_app(monkeypatch, database_url, tmp_path):
    monkeypatch.setenv("JIXIAO_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("JIXIAO_DATABASE_URL", database_url)
    monkeypatch.setenv("JIXIAO_LOGIN_MAX_FAILURES", "2")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == database_url
    assert app.config["LOGIN_MAX_FAILURES"] == 2


def test_default_database_is_sqlite_under_instance(monkeypatch, tmp_path):
    monkeypatch.setenv("JIXIAO_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("JIXIAO_DATABASE_URL", raising=False)
    app = create_app("default")
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'jixiao.sqlite3'}"
    assert app.config["BABEL_DEFAULT_LOCALE"] == "zh_Hans_CN"


def test_production_refuses_the_default_secret_key(monkeypatch, tmp_path):
    monkeypatch.setenv("JIXIAO_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("JIXIAO_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app("production")


def test_production_starts_with_a_real_secret_key(monkeypatch, tmp_path, database_url):
    monkeypatch.setenv("JIXIAO_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("JIXIAO_SECRET_KEY", "a-real-secret-" + "x" * 32)
    monkeypatch.setenv("JIXIAO_DATABASE_URL", database_url)
    app = create_app("production")
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.secret_key.startswith("a-real-secret-")


def test_plugin_settings_from_the_environment_get_the_plugins_types(monkeypatch, tmp_path,
                                                                   database_url):
    monkeypatch.setenv("JIXIAO_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("JIXIAO_DATABASE_URL", database_url)
    monkeypatch.setenv("JIXIAO_MONITORING_REMINDER_DAYS", "7,3,1")
    monkeypatch.setenv("JIXIAO_AGENCY_CONFLICT_YEARS", "5")
    monkeypatch.setenv("JIXIAO_TARGETS_IMPORT_MAX_ROWS", "500")

    app = create_app()
    explicit = create_app({"AGENCY_CONFLICT_YEARS": 2})

    assert app.config["MONITORING_REMINDER_DAYS"] == ["7", "3", "1"]  # a list, as the default
    assert app.config["AGENCY_CONFLICT_YEARS"] == 5
    assert app.config["TARGETS_IMPORT_MAX_ROWS"] == 500
    assert explicit.config["AGENCY_CONFLICT_YEARS"] == 2  # explicit settings still win


def test_production_refuses_an_empty_secret_key_from_the_environment_file(monkeypatch, tmp_path):
    monkeypatch.setenv("JIXIAO_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("JIXIAO_SECRET_KEY", "")  # the line of docs/operations.md left unfilled
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app("production")
