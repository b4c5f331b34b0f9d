"""admin_list: the budget-item admin list page (search + filter + page 1) on a big table.

Project: the real app's ``/admin/budgetitem/`` as a logged-in department user
(``dept01``: row scope active, the realistic case) and as ``finance`` (sees
everything). Baseline: a bare Flask app with a plain Flask-Admin ``ModelView``
of ``BudgetItem`` on the same database (same columns, search, filters and sort;
no login, permissions or scope); for the department user also the same bare view
with a hand-written ``org_unit_id IN (…)`` filter (``*_dept_vs_org_filter``: the
same rows, so the ratio is the cost of the project's machinery alone). All get
the same query string, and list the same items (checked); the median of
``REPEAT`` requests with the Flask test client is reported (all pages take
turns, so a change in the machine's load hits them alike).

Two databases are built, with ``SIZES[0]`` and ``SIZES[1]`` items (Core
``insert()`` executemany, no ORM; the smaller is a prefix of the larger), and
every page is timed on both, taking turns: a flat page keeps
``admin_list_growth`` near 1. Also reported: the SQL of one request (statements,
time, the pager's COUNT(*)), the Python function calls of one request (a measure
of work that a loaded machine does not blur) and, while the view still counts
rows for its pager, the same timings with Flask-Admin's ``simple_list_pager`` on
both sides (``admin_list_nocount*``: what dropping the COUNT(*) would give).
"""

from __future__ import annotations

import re
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from decimal import Decimal
from random import Random
from urllib.parse import urlencode

from sqlalchemy import func, insert, select, text
from support import (
    Figures,
    Growth,
    Result,
    demo_app,
    interleaved_medians,
    logged_in_client,
    progress,
    python_calls,
    sql_figures,
    sql_profile,
    temp_database,
)

NAME = "admin_list"
SIZES = {"small": (1_000, 10_000), "full": (10_000, 100_000)}
REPEAT = {"small": 10, "full": 25}
SEARCH = "信息化"  # one project word in twelve
YEAR = 2026
WORDS = ["设施维护", "信息化建设", "专项补贴", "运行保障", "能力提升", "综合治理",
         "公共服务", "标准化建设", "购买服务", "专项整治", "设备购置", "宣传推广"]
CODE = re.compile(r"\b(20\d\d-[A-Z0-9]+-B?\d{5,7})\b")


# --------------------------------------------------------------------------- data

def grow_table(app, total: int, rng: Random) -> None:
    """Add budget items until the table holds ``total`` (spread over orgs, years, kinds)."""
    from core.extensions import db
    from core.models import BudgetItem, BudgetType, FiscalYear, ItemKind, OrgKind, OrgUnit

    with app.app_context():
        owners = db.session.execute(select(OrgUnit.id, OrgUnit.code, OrgUnit.name).where(
            OrgUnit.kind.in_([OrgKind.DEPARTMENT, OrgKind.UNIT, OrgKind.TOWN_DEPARTMENT]))
            .order_by(OrgUnit.id)).all()
        years = db.session.execute(select(FiscalYear.id, FiscalYear.year)).all()
        have = db.session.scalar(select(func.count()).select_from(BudgetItem))
        db.session.rollback()
        types = [BudgetType.GENERAL_PUBLIC] * 85 + [BudgetType.GOVERNMENT_FUND] * 12 + \
            [BudgetType.STATE_CAPITAL] * 3
        rows = []
        for n in range(have, total):
            owner = owners[n % len(owners)]
            year_id, year = years[n % len(years)]
            roll = rng.random()
            kind = ItemKind.PROJECT if roll < 0.9 else \
                ItemKind.POLICY if roll < 0.98 else ItemKind.DEPARTMENT_OVERALL
            rows.append({
                "code": f"{year}-{owner.code}-B{n:07d}",
                "name": f"{owner.name}{rng.choice(WORDS)}",
                "fiscal_year_id": year_id, "org_unit_id": owner.id, "kind": kind,
                "budget_type": rng.choice(types),
                "amount": Decimal(rng.randint(50_000, 99_999_999)) / 100,
                "is_new": rng.random() < 0.25, "is_recurring": rng.random() < 0.6,
                "is_key_task": rng.random() < 0.07, "is_purchase_of_services": False,
            })
        with db.engine.begin() as conn:
            for start in range(0, len(rows), 20_000):
                conn.execute(insert(BudgetItem.__table__), rows[start:start + 20_000])
            # what autovacuum (PostgreSQL) or PRAGMA optimize (SQLite) would do
            conn.execute(text("ANALYZE"))


# -------------------------------------------------------------------------- views

def _list_settings():
    from plugins.system.admin.views import BudgetItemView

    return {key: getattr(BudgetItemView, key) for key in (
        "column_list", "column_searchable_list", "column_filters", "column_sortable_list",
        "column_default_sort", "page_size")}


def baseline_app(database_url: str, org_ids: frozenset[int]):
    """A bare Flask app: Flask-Admin's own ModelView of BudgetItem, nothing else.

    A second view, ``budgetitem_org``, is the same with a hand-written filter on
    ``org_ids`` in ``get_query``/``get_count_query``: what a department user's
    rows would cost without the project's scope machinery."""
    from flask import Flask, g
    from flask_admin import Admin
    from flask_admin.contrib.sqla import ModelView
    from flask_admin.contrib.sqla import filters as sqla_filters
    from flask_admin.model.filters import convert
    from flask_admin.theme import Bootstrap4Theme
    from flask_babel import Babel

    from core.extensions import db
    from core.models import BudgetItem

    app = Flask("jixiao_bench_baseline")
    app.config.update(SQLALCHEMY_DATABASE_URI=database_url, SECRET_KEY="bench-baseline",
                      BABEL_DEFAULT_LOCALE="zh_Hans_CN")
    db.init_app(app)
    Babel(app)

    @app.before_request
    def no_scope():
        # core.scope's listener is global to every Session; this app has no login,
        # so tell it there is nobody to scope (it then returns at once)
        g.jixiao_unscoped = True

    class MoneyAsFloat(sqla_filters.FilterConverter):
        # stock Flask-Admin knows no Money column: give it its own float filters
        @convert("Money")
        def conv_money(self, column, name, **kwargs):
            return self.conv_float(column, name, **kwargs)

    view_cls = type("BareBudgetItemView", (ModelView,),
                    {**_list_settings(), "filter_converter": MoneyAsFloat()})

    class OrgFilteredView(view_cls):
        def get_query(self):
            return super().get_query().filter(BudgetItem.org_unit_id.in_(org_ids))

        def get_count_query(self):
            return super().get_count_query().filter(BudgetItem.org_unit_id.in_(org_ids))

    admin = Admin(app, name="baseline", theme=Bootstrap4Theme(fluid=True))
    admin.add_view(view_cls(BudgetItem, db.session, endpoint="budgetitem"))
    admin.add_view(OrgFilteredView(BudgetItem, db.session, endpoint="budgetitem_org"))
    return app, admin


def org_ids_of(app, username: str) -> frozenset[int]:
    """The org units a user's row scope covers (``core.scope.principal_for``)."""
    from core.extensions import db
    from core.models import User
    from core.scope import principal_for

    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        return principal_for(user).org_ids


def list_view(admin, endpoint: str = "budgetitem"):
    return next(v for v in admin._views if v.endpoint == endpoint)


def year_filter_arg(view) -> str:
    """The URL key of the view's "fiscal year / year equals" filter, from ``_filter_args``."""
    from flask_admin.contrib.sqla.filters import IntEqualFilter

    for arg, (_idx, flt) in view._filter_args.items():
        if isinstance(flt, IntEqualFilter) and getattr(flt.column, "key", None) == "year":
            return arg
    raise LookupError(f"{type(view).__name__} has no fiscal-year equals filter")


def list_url(admin, endpoint: str = "budgetitem") -> str:
    view = list_view(admin, endpoint)
    query = urlencode({"search": SEARCH, f"flt0_{year_filter_arg(view)}": str(YEAR)})
    return f"{view.url}/?{query}"


def fetch(client, url: str) -> str:
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} → {response.status_code}")
    return response.text


def check_page(html: str, who: str) -> list[str]:
    """The page's item codes; refuse a page that is not the filtered, searched list."""
    codes = list(dict.fromkeys(CODE.findall(html)))
    if "Invalid Filter Value" in html or "无效的过滤器" in html:
        raise RuntimeError(f"{who}: the filter was refused")
    if not 0 < len(codes) <= 20 or not all(c.startswith(f"{YEAR}-") for c in codes):
        raise RuntimeError(f"{who}: expected up to 20 items of {YEAR}, got {codes}")
    return codes


# ---------------------------------------------------------------------------- run

@dataclass
class Setup:
    """One database of a given size, with the project and the baseline app on it."""

    size: int
    app: object
    base_app: object
    dept: object
    finance: object
    base: object
    project_url: str
    baseline_url: str
    baseline_org_url: str
    views: tuple  # the list views: project, baseline, baseline_org


def build(size: int, url: str, instance: str) -> Setup:
    progress(f"building a database of {size:,} budget items")
    app = demo_app(url, instance)
    grow_table(app, size, Random(2026))  # same seed: the smaller table is a prefix
    base_app, base_admin = baseline_app(url, org_ids_of(app, "dept01"))
    admin = app.extensions["jixiao_admin"]
    setup = Setup(size, app, base_app, logged_in_client(app, "dept01"),
                  logged_in_client(app, "finance"), base_app.test_client(),
                  list_url(admin), list_url(base_admin), list_url(base_admin, "budgetitem_org"),
                  (list_view(admin), list_view(base_admin),
                   list_view(base_admin, "budgetitem_org")))
    # the same query lists the same rows
    for who, client, url, base_url in (
            ("finance", setup.finance, setup.project_url, setup.baseline_url),
            ("dept01", setup.dept, setup.project_url, setup.baseline_org_url)):
        if check_page(fetch(client, url), who) != check_page(fetch(setup.base, base_url),
                                                              f"baseline for {who}"):
            raise RuntimeError(f"{who} and its baseline list different items")
    return setup


def time_pages(setups: list[Setup], repeat: int) -> dict[tuple[int, str], float]:
    """Median seconds per (size, "dept" | "finance" | "baseline"), all interleaved."""
    calls = {}
    for s in setups:
        calls[(s.size, "dept")] = lambda s=s: fetch(s.dept, s.project_url)
        calls[(s.size, "finance")] = lambda s=s: fetch(s.finance, s.project_url)
        calls[(s.size, "baseline")] = lambda s=s: fetch(s.base, s.baseline_url)
        calls[(s.size, "baseline_org")] = lambda s=s: fetch(s.base, s.baseline_org_url)
    return interleaved_medians(calls, repeat)


def run(scale: str, db_url: str | None = None) -> Result:
    from core.extensions import db

    small, large = SIZES[scale]
    with ExitStack() as stack:
        setups = [build(size, stack.enter_context(temp_database(db_url)),
                        stack.enter_context(tempfile.TemporaryDirectory()))
                  for size in (small, large)]
        big = setups[-1]
        progress(f"project {big.project_url}  baseline {big.baseline_url}")
        progress(f"timing {REPEAT[scale]} requests of each page, taking turns")
        t = time_pages(setups, REPEAT[scale])
        # while the view counts rows for its pager: the same without COUNT(*)
        what_if = not big.views[0].simple_list_pager
        if what_if:
            progress("again without COUNT(*) (Flask-Admin's simple_list_pager, both sides)")
            for view in (v for s in setups for v in s.views):
                view.simple_list_pager = True
            no_count = time_pages(setups, REPEAT[scale])
            for view in (v for s in setups for v in s.views):
                view.simple_list_pager = False
        calls = (python_calls(lambda: fetch(big.finance, big.project_url)),
                 python_calls(lambda: fetch(big.base, big.baseline_url)))
        sql = {who: sql_figures(sql_profile(the_app, lambda c=client, u=u: fetch(c, u)))
               for who, the_app, client, u in (
                   ("dept", big.app, big.dept, big.project_url),
                   ("finance", big.app, big.finance, big.project_url),
                   ("baseline", big.base_app, big.base, big.baseline_url))}
        for s in setups:  # close the connections before the databases go
            for the_app in (s.app, s.base_app):
                with the_app.app_context():
                    db.engine.dispose()

    label = {n: f"{n // 1000}k" for n in (small, large)}

    def growth(times, who: str) -> Growth:
        return Growth(label[small], times[(small, who)], label[large], times[(large, who)])

    def versus(times, who: str, baseline: str = "baseline", **more) -> Result:
        return Result(times[(large, who)], times[(large, baseline)],
                      {"rows": label[large], "user": "dept01" if who == "dept" else who, **more})

    extra: dict = {
        **versus(t, "dept").extra, **sql["dept"],
        f"{NAME}_finance": versus(t, "finance", **sql["finance"]),
        f"{NAME}_dept_vs_org_filter": versus(t, "dept", "baseline_org"),
        f"{NAME}_baseline_sql": sql["baseline"],
        f"{NAME}_calls": Figures({"project (finance)": calls[0], "baseline": calls[1],
                                  "ratio": f"{calls[0] / calls[1]:.2f}"}),
        f"{NAME}_growth": growth(t, "dept"),
        f"{NAME}_growth_finance": growth(t, "finance"),
        f"{NAME}_growth_baseline": growth(t, "baseline"),
    }
    if what_if:
        extra |= {
            f"{NAME}_nocount": versus(no_count, "dept"),
            f"{NAME}_nocount_finance": versus(no_count, "finance"),
            f"{NAME}_nocount_dept_vs_org_filter": versus(no_count, "dept", "baseline_org"),
            f"{NAME}_nocount_growth": growth(no_count, "dept"),
            f"{NAME}_nocount_growth_finance": growth(no_count, "finance"),
        }
    return Result(t[(large, "dept")], t[(large, "baseline")], extra)
