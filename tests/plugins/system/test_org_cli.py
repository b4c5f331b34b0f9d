"""``flask jixiao org create``: a new installation gets its finance bureau and first admin."""

from __future__ import annotations

from sqlalchemy import func, select

from core.models import OrgUnit
from tests.core.test_migrations import empty_app  # noqa: F401 - a fixture
from tests.support import do_login


def invoke(app, *args: str):
    return app.test_cli_runner().invoke(args=["jixiao", *args])


def test_a_new_installation_gets_its_bureau_and_first_administrator(empty_app):  # noqa: F811
    assert invoke(empty_app, "init-db").exit_code == 0

    created = invoke(empty_app, "org", "create", "CZJ", "区财政局")
    dept = invoke(empty_app, "org", "create", "D01", "区教育局", "--kind", "department",
                  "--parent", "CZJ")

    assert created.exit_code == 0, created.output
    assert "created org unit CZJ" in created.output
    assert dept.exit_code == 0, dept.output
    runner = empty_app.test_cli_runner()
    admin = runner.invoke(args=["jixiao", "user", "create", "admin", "--role", "finance_admin",
                                "--org", "CZJ", "--password-stdin"], input="Adm1n@Jixiao2026\n")
    assert admin.exit_code == 0, admin.output
    assert do_login(empty_app.test_client(), "admin", "Adm1n@Jixiao2026").status_code == 302
    verified = invoke(empty_app, "audit", "verify")
    assert verified.exit_code == 0 and "intact" in verified.output


def test_a_refused_org_unit_says_why_and_writes_nothing(app, db_session):
    before = db_session.scalar(select(func.count()).select_from(OrgUnit))

    orphan = invoke(app, "org", "create", "X01", "无上级部门", "--kind", "department")
    lost = invoke(app, "org", "create", "X02", "某单位", "--kind", "unit", "--parent", "NOPE")
    taken = invoke(app, "org", "create", "D01", "重复")

    assert orphan.exit_code == 1 and "kind:" in orphan.output
    assert lost.exit_code == 1 and "parent: no org unit with code 'NOPE'" in lost.output
    assert taken.exit_code == 1 and "'D01' already exists" in taken.output
    assert db_session.scalar(select(func.count()).select_from(OrgUnit)) == before
