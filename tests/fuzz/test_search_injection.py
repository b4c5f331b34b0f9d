"""SQL injection attempts on every search box, as every demo role.

The search boxes are found, not listed: every Flask-Admin view with a
``column_searchable_list``, and the text arguments of the API lists
(``/api/v1/budget-items?q=``, ``/api/v1/indicator-templates?q=&sector=&level2=``).
Each gets classic payloads (quotes, comments, UNION, ``%``/``_`` wildcards,
backslashes, unicode look-alikes, NUL, a very long string). The answer is a
page (200) — for an API argument over its documented length or with a NUL a
422 — never a
server error; the rows shown are a subset of what the same user may see without
searching (``tests.core.scope_oracle``, plain SQL independent of core.scope);
and no table changed.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from core.models import BudgetItem
from tests.core.scope_oracle import seer_for, visible_rows
from tests.fuzz.support import ROLES, bearer, new_token, snapshot

PAYLOADS = [
    "' OR 1=1 --", "'; DROP TABLE budget_item; --", "%", "_",
    "x' UNION SELECT username, password_hash FROM user_account --", "\\%",
    "＇ ＯＲ １＝１", "a\x00b", "测" * 3000,
]

_IDS = re.compile(r'name="rowid"[^>]*value="(\d+)"|[?&;]id=(\d+)')


def _searchable_views(app):
    return [v for v in app.extensions["jixiao_admin"]._views
            if getattr(v, "column_searchable_list", None)]


def _shown_ids(html: str) -> set[int]:
    return {int(a or b) for a, b in _IDS.findall(html)}


def _tables(app) -> list[str]:
    return sorted({v.model.__table__.name for v in _searchable_views(app)})


def test_every_search_box_is_found(app):
    names = {v.endpoint for v in _searchable_views(app)}
    assert {"budgetitem", "user", "auditlog", "targetsheet", "engagement",
            "fee_schedule", "agency_assessment"} <= names


@pytest.mark.parametrize("user", list(ROLES))
def test_admin_search_boxes_leak_nothing_and_change_nothing(app, login, user):
    client = login(user)
    before = snapshot(app, *_tables(app))
    problems = []
    with app.app_context():
        seer = seer_for(user)
    for view in _searchable_views(app):
        url = view.url.rstrip("/") + "/"
        plain = client.get(url)
        with app.app_context():
            allowed = set(visible_rows(view.model, seer))
        # a page the user may not open only has to stay closed: two payloads are enough
        for payload in PAYLOADS if plain.status_code == 200 else PAYLOADS[:2]:
            response = client.get(f"{url}?search={quote(payload)}")
            where = f"{user} {url}?search={payload[:40]!r}"
            if response.status_code != plain.status_code:
                problems.append(f"{where}: {response.status_code}, without search "
                                f"{plain.status_code}")
                continue
            if response.status_code == 200:
                leaked = _shown_ids(response.text) - allowed
                if leaked:
                    problems.append(f"{where}: rows {sorted(leaked)[:10]} outside the scope")
    assert not problems, "\n".join(problems)
    assert snapshot(app, *_tables(app)) == before


API_SEARCHES = [("/api/v1/budget-items", "q", 100), ("/api/v1/indicator-templates", "q", 100),
                ("/api/v1/indicator-templates", "sector", 60),
                ("/api/v1/indicator-templates", "level2", 20)]


@pytest.mark.parametrize("user", list(ROLES))
def test_api_search_arguments_leak_nothing_and_change_nothing(app, client, user):
    headers = bearer(new_token(app, user))
    before = snapshot(app, "budget_item", "indicator_template")
    with app.app_context():
        allowed_items = set(visible_rows(BudgetItem, seer_for(user)))
    problems = []
    for path, name, max_length in API_SEARCHES:
        plain = client.get(path, headers=headers)
        for payload in PAYLOADS:
            response = client.get(f"{path}?{name}={quote(payload)}&per_page=200",
                                  headers=headers)
            where = f"{user} {path}?{name}={payload[:40]!r}"
            expected = plain.status_code
            if expected == 200 and (len(payload) > max_length or "\x00" in payload):
                expected = 422  # over the documented length, or a NUL PostgreSQL cannot take
            if response.status_code != expected:
                problems.append(f"{where}: {response.status_code}, expected {expected}")
                continue
            body = response.get_json()
            if response.status_code != 200:
                assert set(body) == {"code", "message", "details"}, body
                continue
            if path.endswith("budget-items"):
                leaked = {i["id"] for i in body["items"]} - allowed_items
                if leaked:
                    problems.append(f"{where}: items {sorted(leaked)[:10]} outside the scope")
            if payload in ("%", "_") and body["total"]:
                problems.append(f"{where}: {body['total']} rows for a literal {payload!r}")
    assert not problems, "\n".join(problems)
    assert snapshot(app, "budget_item", "indicator_template") == before
