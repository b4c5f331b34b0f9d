"""``flask jixiao demo-logins``: the table ``python3 dev.py run`` prints before serving."""

from __future__ import annotations

from plugins.system.demo import DEMO_PASSWORD
from tests.conftest import _make_database
from tests.support import do_login


def test_lists_one_login_per_role_with_the_password(app):
    result = app.test_cli_runner().invoke(args=["jixiao", "demo-logins"])

    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line.split()[1:] for line in result.output.splitlines()[1:-1]}
    assert rows["finance"] == ["finance_admin", "区财政局"]
    assert rows["dept01"] == ["dept_admin", "区教育局"]
    assert rows["expert01"] == ["expert", "-"]
    assert {"unit0101", "town01", "agency01", "viewer"} <= set(rows)
    assert DEMO_PASSWORD in result.output.splitlines()[-1]


def test_every_listed_login_works(app):
    result = app.test_cli_runner().invoke(args=["jixiao", "demo-logins"])
    usernames = [line.split()[0] for line in result.output.splitlines()[1:-1]]

    for username in usernames:
        response = do_login(app.test_client(), username)
        assert response.status_code == 302, f"{username} cannot log in with the printed password"


def test_says_what_to_do_on_a_database_without_demo_data(make_app, tmp_path_factory):
    databases = _make_database(tmp_path_factory)
    app = make_app(SQLALCHEMY_DATABASE_URI=next(databases))
    try:
        runner = app.test_cli_runner()
        assert runner.invoke(args=["db", "upgrade"]).exit_code == 0

        result = runner.invoke(args=["jixiao", "demo-logins"])

        assert result.exit_code == 1
        assert "seed-demo" in result.output
    finally:
        from core.extensions import db

        with app.app_context():
            db.engine.dispose()
        next(databases, None)
