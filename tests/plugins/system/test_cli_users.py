"""``flask jixiao user create``: a working login, or a clear refusal that writes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.extensions import db
from core.models import AuditLog, User
from tests.core.web.test_csrf import fingerprint
from tests.support import do_login


@pytest.fixture(autouse=True, scope="module")
def _remove_created_users(app):
    yield
    with app.app_context():
        for user in db.session.scalars(select(User).where(User.username.like("cli\\_%",
                                                                             escape="\\"))):
            db.session.delete(user)
        db.session.commit()


def create(app, *args: str, input: str | None = None):
    return app.test_cli_runner().invoke(args=["jixiao", "user", "create", *args], input=input)


def user_row(app, username: str) -> User | None:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        if user is not None:
            _ = user.role, user.org_unit
            db.session.expunge(user)
        return user


def test_prompted_password_makes_a_working_login(app):
    result = create(app, "cli_unit_user", "--role", "unit_user", "--org", "D01U02",
                    "--full-name", "  王  小明 ", input="Str0ng-passw0rd\nStr0ng-passw0rd\n")
    assert result.exit_code == 0, result.output
    assert "created user cli_unit_user (unit_user, D01U02)" in result.output
    assert "Str0ng-passw0rd" not in result.output  # typed, hidden, never echoed
    user = user_row(app, "cli_unit_user")
    assert (user.full_name, user.active, user.org_unit.code) == ("王 小明", True, "D01U02")
    assert do_login(app.test_client(), "cli_unit_user", "Str0ng-passw0rd").status_code == 302
    with app.app_context():
        entry = db.session.scalar(select(AuditLog).where(
            AuditLog.object_type == "user_account", AuditLog.object_id == str(user.id),
            AuditLog.action == "create").order_by(AuditLog.id.desc()).limit(1))
        # the newest: SQLite gives a deleted user's id again (test_auth deletes its users)
        assert entry.username == "cli" and entry.after["password_hash"] == "***"


def test_mismatched_confirmation_asks_again(app):
    result = create(app, "cli_retry", "--role", "expert",
                    input="first-password1\nother-password1\nsecond-passw0rd\nsecond-passw0rd\n")
    assert result.exit_code == 0, result.output
    assert do_login(app.test_client(), "cli_retry", "second-passw0rd").status_code == 302


def test_generated_password_is_printed_and_works(app):
    result = create(app, "cli_agency", "--role", "agency_user", "--generate-password")
    assert result.exit_code == 0, result.output
    password = result.output.split("password: ", 1)[1].strip()
    assert len(password) >= 10
    assert do_login(app.test_client(), "cli_agency", password).status_code == 302
    assert user_row(app, "cli_agency").org_unit is None


def test_password_from_stdin(app):
    result = create(app, "cli_finance", "--role", "finance_admin", "--org", "CZJ",
                    "--password-stdin", input="from-stdin-pass\n")
    assert result.exit_code == 0, result.output
    assert "from-stdin-pass" not in result.output
    assert do_login(app.test_client(), "cli_finance", "from-stdin-pass").status_code == 302


@pytest.mark.parametrize(("args", "says"), [
    (["dept01", "--role", "dept_admin", "--org", "D01"], "'dept01' already exists"),
    (["DEPT01", "--role", "dept_admin", "--org", "D01"], "'DEPT01' already exists"),
    (["bad name", "--role", "expert"], "username: use 1 to 64 letters"),
    (["x" * 65, "--role", "expert"], "username: use 1 to 64 letters"),
    (["cli_norole", "--role", "wizard"], "role: no role 'wizard' (known: "),
    (["cli_noorg", "--role", "unit_user", "--org", "NOPE"], "org: no org unit with code 'NOPE'"),
    (["cli_unit_at_dept", "--role", "unit_user", "--org", "D01"], "D01 is a department"),
    (["cli_dept_at_unit", "--role", "dept_admin", "--org", "D01U01"], "D01U01 is a unit"),
    (["cli_unit_no_org", "--role", "unit_user"], "a unit_user user needs --org"),
    (["cli_expert_org", "--role", "expert", "--org", "D01"], "belongs to no org unit"),
    (["cli_fin_at_dept", "--role", "finance_admin", "--org", "D01"], "D01 is a department"),
    (["cli_both", "--role", "expert", "--password-stdin", "--generate-password"], "not both"),
])
def test_refusals_name_the_problem_and_write_nothing(app, args, says):
    before = fingerprint(app)
    result = create(app, *args, input="long-enough-pw\nlong-enough-pw\n")
    assert result.exit_code == 1, result.output
    assert says in result.output
    assert "Password" not in result.output  # refused before asking for a password
    assert fingerprint(app) == before


def test_short_password_is_refused(app):
    before = fingerprint(app)
    result = create(app, "cli_short", "--role", "expert", "--password-stdin", input="short\n")
    assert result.exit_code == 1 and "password: must have at least 10 characters" in result.output
    assert fingerprint(app) == before


def test_missing_role_is_a_usage_error(app):
    result = create(app, "cli_norole2")
    assert result.exit_code == 2 and "--role" in result.output
    with app.app_context():
        assert not db.session.scalar(select(func.count()).select_from(User)
                                     .where(User.username == "cli_norole2"))
