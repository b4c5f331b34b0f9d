"""SQL statements per page: a bound per page kind, and a list sends as many statements for
20 rows as for 2 (an N+1 query fails here, even on the small demo data).

Every demo role crawls what it reaches from the navigation (``tests/crawl.py``: home,
待办, badges, every menu entry and the first record or custom page of each), with every
list at 20 rows a page. The bounds, in statements of one request:

- the fixed cost of any page is 2–4 (the user, the role's permissions, a department's
  or unit's org subtree, the year switch's years);
- a list (``list``): its rows, the pager's count, each relation the columns show loaded
  for the whole page in one statement (Flask-Admin's joins, ``list_options``), the
  filters' choices: ≤ 30 (issue 21);
- a record page (``record``): the record and its relations: ≤ 35;
- 待办 (``tasks``) and the badges (``badge``): one count per queue of each stage (grouped
  by stage and level for finance), the reconciliation of closed engagements (the
  engagements contract, 7), the unread count: ≤ 35;
- home (``home``): one or two aggregates per dashboard card; its 待办 block comes after the
  page is shown (``/workbench/tasks``, counted as ``tasks``): ≤ 35;
- the budget item's page (``item``): the record, its project, plus each stage plugin's
  panel (``jixiao_item_panels``; the agency-fee and agency-scoring panels read the
  engagements contract, 7 statements each), none per row: ≤ 50;
- the bureau's reports (``report``, /admin/reports/): a fixed set of figures of every stage,
  each counted once, none per row: ≤ 60;
- any other page of the menu (``custom``: coverage, forms): ≤ 30.
"""

from __future__ import annotations

from collections import Counter
from contextlib import contextmanager

import pytest
from flask_admin.contrib.sqla import ModelView

from tests.crawl import NUMBERS, crawl, model_lists, most_repeated, sql_profile

ROLES = ["finance", "dept01", "unit0101", "expert01", "agency01", "viewer"]
BOUND = {"list": 30, "record": 35, "custom": 30, "home": 35, "tasks": 35, "badge": 35,
         "report": 60, "item": 50}
SMALL, FULL = 2, 20
#: a list of 20 rows may send a statement once or twice more than a list of 2: an eager
#: load that only starts when some row has the relation, a relation per fiscal year
#: shown; a statement per row sends it up to 18 times more
PER_ROW_SLACK = 2


@contextmanager
def page_size(app, size: int):
    """Every admin list shows ``size`` rows a page inside the block."""
    views = [v for v in app.extensions["jixiao_admin"]._views if isinstance(v, ModelView)]
    before = [v.page_size for v in views]
    for v in views:
        v.page_size = size
    try:
        yield
    finally:
        for v, size_before in zip(views, before, strict=True):
            v.page_size = size_before


def fetch(app, client, url: str) -> tuple[str, list[str]]:
    """The page's HTML and the statements its request sent."""
    out: list = []
    sql = sql_profile(app, lambda: out.append(client.get(url)))
    assert out[0].status_code == 200, f"GET {url} → {out[0].status_code}"
    return out[0].text, [s for _, s in sql]


def grown(small: list[str], full: list[str]) -> list[tuple[str, int]]:
    """The statements a full page sends more often than a page of two rows, most first."""
    more = Counter(NUMBERS.sub("N", s) for s in full)
    more.subtract(Counter(NUMBERS.sub("N", s) for s in small))
    return [(sql, n) for sql, n in more.most_common() if n > 0]


@pytest.mark.parametrize("username", ROLES)
def test_no_page_sends_more_statements_than_its_kind_allows(app, login, username):
    client = login(username)
    sent: dict[str, list[str]] = {}

    def get(url: str) -> str:  # the crawl's own requests are the ones counted
        html, sent[url] = fetch(app, client, url)
        return html

    with page_size(app, FULL):
        pages = crawl(get, model_lists(app))
        for page in pages:
            if page.url not in sent:
                get(page.url)
    problems = []
    for page in pages:
        full = sent[page.url]
        sql, times = most_repeated(full)
        if len(full) > BOUND[page.kind]:
            problems.append(f"{page.kind} {page.url}: {len(full)} statements > "
                            f"{BOUND[page.kind]}; most repeated ({times}×): {sql[:200]}")
        if page.kind == "list":
            with page_size(app, SMALL):
                small = fetch(app, client, page.url)[1]
            worse = [(sql, n) for sql, n in grown(small, full) if n > PER_ROW_SLACK]
            if worse:
                problems.append(f"list {page.url}: {len(full)} statements for {FULL} rows, "
                                f"{len(small)} for {SMALL} (N+1): " + "; ".join(
                                    f"+{n}× {sql[:160]}" for sql, n in worse))
    assert not problems, f"as {username}:\n" + "\n".join(problems)
