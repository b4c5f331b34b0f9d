"""Crawling the admin as one person, and the SQL statements each request sends.

The pages a person reaches from the navigation: the home page, 待办 (``/admin/tasks/``),
the badges' JSON (``/workbench/counts``), every entry of the admin menu (the links
left of the year switch) and, from each, its first record page (details or edit) or,
for a custom page, its first link deeper under the same URL. Shared by
``tests/core/web/test_statement_bounds.py`` (a bound per page kind) and
``bench/bench_page_crawl.py`` (server time and statements on district data).
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

HREF = re.compile(r'href="([^"#]+)"')
RECORD = re.compile(r"/(details|edit)/\?id=")
NOT_A_PAGE = re.compile(r"/(new|export|action|ajax|delete|import|calculate)/|[?&](sort|page|flt|search)")
#: what every person reaches whatever the menu: the home page, 待办, the badges and the home
#: page's 待办 block (both fetched once the page is shown)
FIXED = (("/admin/", "home"), ("/admin/tasks/", "tasks"), ("/workbench/counts", "badge"),
         ("/workbench/tasks", "tasks"))
NUMBERS = re.compile(r"\b\d+\b")


@dataclass(frozen=True)
class Page:
    """One page of the crawl: its URL and kind (home, tasks, badge, list, custom, record,
    item, report)."""

    url: str
    kind: str


def menu_urls(html: str) -> list[str]:
    """The admin menu's entries on a page: the navigation bar's links left of the year switch."""
    start, end = html.find("navbar-nav mr-auto"), html.find("navbar-right")
    links = HREF.findall(html[start:end]) if 0 <= start < end else []
    return [u for u in dict.fromkeys(links) if u.startswith("/admin/") and u != "/admin/"]


def first_link_below(html: str, base: str) -> str | None:
    """The first record page (details or edit) linked from ``html``, else the first page
    linked deeper under ``base`` (a custom page's own sub-page)."""
    links = [u.replace("&amp;", "&") for u in HREF.findall(html)]
    below = [u for u in links if u.startswith(base) and u.split("?")[0] != base]
    return next((u for u in below if RECORD.search(u)), None) or \
        next((u for u in below if not NOT_A_PAGE.search(u)), None)


def model_lists(app) -> set[str]:
    """The URLs of the app's admin model lists (``/admin/budgetitem/``): any other page of
    the menu is a custom page."""
    from flask_admin.contrib.sqla import ModelView

    return {f"{v.url}/" for v in app.extensions["jixiao_admin"]._views
            if isinstance(v, ModelView)}


def crawl(get: Callable[[str], str], lists: set[str]) -> list[Page]:
    """Every page one person reaches; ``get(url)`` returns a page's HTML (status 200),
    ``lists`` are the model lists' URLs (``model_lists``)."""
    pages = [Page(url, kind) for url, kind in FIXED]
    for url in menu_urls(get("/admin/")):
        html = get(url)
        pages.append(Page(url, "list" if url.split("?")[0] in lists else _custom(url)))
        below = first_link_below(html, url.split("?")[0])
        if below:
            pages.append(Page(below, _record(below) if RECORD.search(below) else
                              _custom(below)))
    return pages


def _record(url: str) -> str:
    """The budget item's page carries a panel of every stage (``jixiao_item_panels``): its
    own kind, with its own bound; any other record page is a record."""
    return "item" if url.startswith("/admin/budgetitem/details/") else "record"


def _custom(url: str) -> str:
    """A report (plugins/reports) counts a fixed set of figures, one query each: its own
    kind, with its own bound; every other page that is not a list or record is custom."""
    return "report" if url.startswith("/admin/reports/") else "custom"


def sql_profile(app, call: Callable[[], Any]) -> list[tuple[float, str]]:
    """(seconds, statement) of every SQL statement ``call()`` sends through ``app``'s engine."""
    from sqlalchemy import event

    from core.extensions import db

    with app.app_context():
        engine = db.engine
    seen: list[tuple[float, str]] = []
    started: list[float] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        started.append(time.perf_counter())

    def after(conn, cursor, statement, parameters, context, executemany):
        seen.append((time.perf_counter() - started.pop(), " ".join(statement.split())))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    return seen


def most_repeated(statements: list[str]) -> tuple[str, int]:
    """The statement sent most often (numbers written as N) and how often: an N+1's tell."""
    if not statements:
        return "", 0
    return Counter(NUMBERS.sub("N", s) for s in statements).most_common(1)[0]
