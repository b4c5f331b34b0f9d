"""Demo data: a realistic district, the same data for the same seed."""

from decimal import Decimal

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from core.extensions import db
from core.models import BudgetItem, BudgetType, ItemKind, OrgKind, OrgUnit, RoleName, User
from core.plugins import hooks


def _seed_into(make_app, tmp_path, name, seed, scale="district"):
    from flask_migrate import upgrade

    url = f"sqlite:///{tmp_path / name}"
    app = make_app(SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        upgrade()
    result = app.test_cli_runner().invoke(
        args=["jixiao", "seed-demo", "--scale", scale, "--seed", str(seed)])
    assert result.exit_code == 0, result.output
    return url


def _fingerprint(url):
    engine = create_engine(url)
    with Session(engine) as s:
        items = s.execute(select(BudgetItem.code, BudgetItem.name, BudgetItem.amount,
                                 BudgetItem.kind, BudgetItem.budget_type, OrgUnit.code)
                          .join(OrgUnit).order_by(BudgetItem.code)).all()
        users = s.scalars(select(User.username).order_by(User.username)).all()
    engine.dispose()
    return items, users


@pytest.fixture(scope="module")
def district(make_app, tmp_path_factory):
    path = tmp_path_factory.mktemp("demo")
    return path, _seed_into(make_app, path, "a.sqlite3", 2021)


def test_same_seed_gives_the_same_data_and_another_seed_differs(make_app, district):
    path, first = district
    again = _seed_into(make_app, path, "b.sqlite3", 2021)
    other = _seed_into(make_app, path, "c.sqlite3", 7)
    assert _fingerprint(first) == _fingerprint(again)
    assert _fingerprint(first)[0] != _fingerprint(other)[0]


def test_district_scale_looks_like_a_district(district):
    _, url = district
    engine = create_engine(url)
    with Session(engine) as s:
        kinds = dict(s.execute(select(OrgUnit.kind, func.count()).group_by(OrgUnit.kind)).all())
        assert kinds[OrgKind.FINANCE_BUREAU] == 1
        assert kinds[OrgKind.DEPARTMENT] == 40
        assert kinds[OrgKind.TOWN] == 12
        assert kinds[OrgKind.UNIT] >= 200
        assert kinds[OrgKind.TOWN_DEPARTMENT] >= 12
        items = s.scalars(select(BudgetItem)).all()
        assert 2500 <= len(items) <= 3500
        assert {i.budget_type for i in items} == set(BudgetType)
        assert {i.kind for i in items} == set(ItemKind)
        big_recurring = [i for i in items if i.is_recurring and i.amount >= Decimal("10000000")]
        new_major = [i for i in items if i.is_new and i.amount >= Decimal("1000000")]
        small = [i for i in items if i.amount < Decimal("1000000")]
        assert len(big_recurring) >= 50 and len(new_major) >= 100 and len(small) >= 500
        assert all(isinstance(i.amount, Decimal) and i.amount >= 0 for i in items)
        assert all(i.contractor for i in items if i.is_purchase_of_services)
        roles = {u.role.name for u in s.scalars(select(User))}
        assert roles == {r.value for r in RoleName}
    engine.dispose()


def test_seed_demo_if_empty_does_not_duplicate(app):
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(BudgetItem))
    result = app.test_cli_runner().invoke(args=["jixiao", "seed-demo", "--if-empty"])
    assert "already" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(BudgetItem)) == before


def test_every_demo_login_works_for_each_role(login):
    for username in ("finance", "dept01", "unit0101", "town01", "expert01", "agency01", "viewer"):
        assert login(username).get("/admin/").status_code == 200


def test_every_plugin_seeding_demo_data_filled_a_table_of_its_own(app):
    """``flask jixiao seed-demo`` (run by the ``app`` fixture) calls jixiao_seed_demo of each
    plugin: each that implements it leaves rows in at least one of its tables."""
    with app.app_context():
        pm = hooks(app).pm
        seeders = {pm.get_name(impl.plugin) for impl in pm.hook.jixiao_seed_demo.get_hookimpls()}
        assert seeders >= {"system", "targets", "agencies", "evaluation"}
        by_plugin: dict[str, list] = {}
        for mapper in db.Model.registry.mappers:
            parts = mapper.class_.__module__.split(".")
            if parts[0] == "plugins":
                by_plugin.setdefault(parts[1], []).append(mapper.local_table)
        empty = [name for name in seeders - {"system"}
                 if not any(db.session.scalar(select(func.count()).select_from(table))
                            for table in by_plugin.get(name, []))]
    assert not empty, f"seed-demo left these plugins' tables empty: {empty}"
