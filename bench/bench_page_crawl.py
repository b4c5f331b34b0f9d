"""page_crawl: every page of the menu as finance, a department and a unit, on district data.

Project: the real app on the ``district`` demo data (40 departments, 3,000 budget
items over two fiscal years and every stage's records; ``--scale small``: the small
demo data). As ``finance``, ``dept01`` and ``unit0101`` the crawl of
``tests/crawl.py`` visits the home page, 待办 (``/admin/tasks/``), the badges' JSON
(``/workbench/counts``), every menu entry and the first record (or custom) page of
each; per page: the server time (median of ``REPEAT`` in-process requests, all pages
taking turns) and the SQL statements of one request.

Baseline, same run, same database: a bare Flask app with a stock Flask-Admin
``ModelView`` of every table the project lists (its scaffolded columns, the project's
page size; no login, scope or formatters). A list or record page is compared with the
bare list of its own table, any other page with the bare budget-item list.

Goals (issue 21): no list of 20 rows over ``MAX_STATEMENTS`` (the heaviest page of
any kind is shown against it too); the slowest page ≤ 3 × the bare list; finance's
待办 and badges ≤ 2 × finance's plain budget-item list.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from urllib.parse import urlsplit

from bench_admin_list import baseline_app
from support import (
    Figures,
    Result,
    demo_app,
    interleaved_medians,
    logged_in_client,
    progress,
    sql_profile,
    temp_database,
)

from tests.crawl import Page, crawl, model_lists, most_repeated

NAME = "page_crawl"
ROLES = ("finance", "dept01", "unit0101")
SEED = {"small": "small", "full": "district"}
REPEAT = {"small": 3, "full": 4}
MAX_STATEMENTS = 30
SLOWEST_VS_BARE = 3.0
TASKS_VS_LIST = 2.0
BUDGET_LIST = "/admin/budgetitem/"


def fetch(client, url: str) -> str:
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} → {response.status_code}")
    return response.text


def endpoint_of(url: str) -> str:
    """``/admin/budgetitem/details/?id=3`` → ``budgetitem``."""
    parts = urlsplit(url).path.split("/")
    return parts[2] if len(parts) > 2 and parts[1] == "admin" else ""


def bare_lists(app, base_admin) -> dict[str, str]:
    """Add a stock ModelView of every table the project lists to the baseline admin;
    project endpoint → the bare list's URL."""
    from flask_admin.contrib.sqla import ModelView

    from core.extensions import db

    urls = {"budgetitem": "/admin/budgetitem/"}
    for view in app.extensions["jixiao_admin"]._views:
        if isinstance(view, ModelView) and view.endpoint not in urls:
            bare = type(f"Bare{type(view).__name__}", (ModelView,), {"page_size": view.page_size})
            base_admin.add_view(bare(view.model, db.session, endpoint=f"bare_{view.endpoint}"))
            urls[view.endpoint] = f"/admin/bare_{view.endpoint}/"
    return urls


@dataclass
class Row:
    page: Page
    role: str
    seconds: float
    statements: int
    repeated: tuple[str, int]
    bare_url: str
    bare_seconds: float

    @property
    def ratio(self) -> float:
        return self.seconds / self.bare_seconds


class Table(list):
    """The per-page lines: page, kind, role, ms, statements, ratio to the bare list."""

    def lines(self, name: str) -> list[str]:
        out = [f"{name}: {'page':58} {'kind':6} {'role':8} {'ms':>7} {'stmts':>5} "
               f"{'bare ms':>7} {'ratio':>5}  most repeated"]
        for r in sorted(self, key=lambda r: -r.seconds):
            sql, times = r.repeated
            out.append(f"{name}: {r.page.url[:58]:58} {r.page.kind:6} {r.role:8} "
                       f"{r.seconds * 1000:7.1f} {r.statements:5d} {r.bare_seconds * 1000:7.1f} "
                       f"{r.ratio:5.2f}  {times}× {sql[:60]}")
        return out


def run(scale: str, db_url: str | None = None) -> Result:
    from core.extensions import db

    with temp_database(db_url) as url, tempfile.TemporaryDirectory() as instance:
        progress(f"seeding the {SEED[scale]} demo data")
        app = demo_app(url, instance, SEED[scale])
        base_app, base_admin = baseline_app(url, frozenset())
        bare = bare_lists(app, base_admin)
        base = base_app.test_client()
        clients = {who: logged_in_client(app, who) for who in ROLES}
        pages = {who: crawl(lambda u, c=clients[who]: fetch(c, u), model_lists(app))
                 for who in ROLES}
        progress(f"{sum(map(len, pages.values()))} pages; timing {REPEAT[scale]} of each, "
                 "taking turns with the bare lists")
        calls = {(who, p.url): (lambda c=clients[who], u=p.url: fetch(c, u))
                 for who in ROLES for p in pages[who]}
        calls |= {("bare", u): (lambda u=u: fetch(base, u)) for u in set(bare.values())}
        t = interleaved_medians(calls, REPEAT[scale], warmup=1)
        rows = Table()
        for who in ROLES:
            for p in pages[who]:
                sql = [s for _, s in sql_profile(app, lambda c=clients[who], u=p.url: c.get(u))]
                bare_url = bare.get(endpoint_of(p.url) if p.kind in ("list", "record") else "",
                                    bare["budgetitem"])
                rows.append(Row(p, who, t[(who, p.url)], len(sql), most_repeated(sql),
                                bare_url, t[("bare", bare_url)]))
        for the_app in (app, base_app):  # close the connections before the database goes
            with the_app.app_context():
                db.engine.dispose()

    def of(role: str, kind: str) -> Row:
        return next(r for r in rows if r.role == role and r.page.kind == kind)

    budget_list = next(r for r in rows if r.role == "finance" and r.page.url == BUDGET_LIST)
    slowest, most = max(rows, key=lambda r: r.ratio), max(rows, key=lambda r: r.statements)
    most_list = max((r for r in rows if r.page.kind == "list"), key=lambda r: r.statements)
    tasks, badge = of("finance", "tasks"), of("finance", "badge")
    verdict = {True: "met", False: "NOT met"}
    goals = Figures({
        "most statements on a list": f"{most_list.statements} ({most_list.page.url}, "
            f"{most_list.role}; ≤ {MAX_STATEMENTS}: "
            f"{verdict[most_list.statements <= MAX_STATEMENTS]})",
        "on any page": f"{most.statements} ({most.page.url}, {most.role}; "
                       f"≤ {MAX_STATEMENTS}: {verdict[most.statements <= MAX_STATEMENTS]})",
        "slowest vs bare list": f"{slowest.ratio:.2f} ({slowest.page.url}, {slowest.role}; "
                                f"≤ {SLOWEST_VS_BARE:g}: {verdict[slowest.ratio <= SLOWEST_VS_BARE]})",
        "finance tasks vs budget list": f"{tasks.seconds / budget_list.seconds:.2f} "
            f"(≤ {TASKS_VS_LIST:g}: {verdict[tasks.seconds <= TASKS_VS_LIST * budget_list.seconds]})",
        "finance badge vs budget list": f"{badge.seconds / budget_list.seconds:.2f} "
            f"(≤ {TASKS_VS_LIST:g}: {verdict[badge.seconds <= TASKS_VS_LIST * budget_list.seconds]})",
    })
    return Result(slowest.seconds, slowest.bare_seconds, {
        "slowest": f"{slowest.page.url} ({slowest.role})", "pages": len(rows),
        "data": SEED[scale], f"{NAME}_goals": goals, f"{NAME}_pages": rows})
