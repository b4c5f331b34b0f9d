"""Role × endpoint matrix, found by discovery: every admin view and every /api/v1 route.

For each demo role (and anonymous) every registered Flask-Admin view and every
API route is requested: access must match ``core.permissions.can`` exactly, and
every page, export, ajax lookup and API list must hold exactly the rows the
user may see, as computed from the org tree by ``scope_oracle`` (plain SQL, not
``core.scope``). A view without ``permission`` or a route without
``@requires`` fails here, so a plugin cannot forget one.
"""

from __future__ import annotations

import csv
import io
import re

import pytest
from flask_admin.contrib.sqla import ModelView
from flask_admin.model import BaseModelView

from tests.core import scope_oracle as oracle
from tests.core.matrix_support import (
    COVERED_ELSEWHERE,
    ROLES,
    api_routes,
    expect_access,
    may,
    model_for_path,
    route_permission,
)
from tests.support import do_login

PAGE_COUNT = re.compile(r'class="nav-link active">[^<]*?\((\d+)\)\s*</a>')


def visible(app, model, seer) -> dict:
    with app.app_context():
        return oracle.visible_rows(model, seer)


def every(app, model) -> dict:
    with app.app_context():
        return oracle.all_rows(model)


FILTER_DATA = re.compile(r'<div id="(?:filter-groups|active-filters)-data"[^>]*>.*?</div>', re.S)


def shows(label: str, html: str) -> bool:
    """Is ``label`` on the page as a whole word ("D01" is not in "D01U01")?

    The list filters' option data (e.g. role names such as "viewer") is not a row.
    """
    html = FILTER_DATA.sub("", html)
    return re.search(r"(?<![\w-])" + re.escape(label) + r"(?![\w-])", html) is not None


def admin_views(app) -> list:
    return list(app.extensions["jixiao_admin"]._views)


@pytest.fixture(scope="module")
def clients(app):
    out = {}
    for username in ROLES:
        client = app.test_client()
        if username is not None:
            assert do_login(client, username).status_code == 302, username
        out[username] = client
    return out


@pytest.fixture(scope="module")
def seers(app):
    with app.app_context():
        return {u: oracle.seer_for(u) for u in ROLES}


def test_every_admin_view_declares_a_known_permission(app):
    from core.permissions import declared

    with app.app_context():
        known = set(declared())
    views = admin_views(app)
    assert any(isinstance(v, BaseModelView) for v in views)
    missing = [v.endpoint for v in views if not getattr(v, "permission", "")]
    assert not missing, f"admin views without a permission: {missing}"
    unknown = [(v.endpoint, v.permission) for v in views if f"{v.permission}.view" not in known]
    assert not unknown, f"admin views whose <permission>.view is not declared: {unknown}"


def test_every_api_route_requires_a_known_permission(app):
    from core.permissions import declared

    with app.app_context():
        known = set(declared())
    routes = list(api_routes(app))
    assert routes, "no API route found under /api/v1"
    missing, unknown = [], []
    for rule in routes:
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            perm = route_permission(app, rule, method)
            if not perm:
                missing.append(f"{method} {rule.rule}")
            elif perm not in known:
                unknown.append(f"{method} {rule.rule}: {perm}")
    assert not missing, f"API routes without @requires(...): {missing}"
    assert not unknown, f"API routes requiring an undeclared permission: {unknown}"


# --- admin ---------------------------------------------------------------------------------


def _ids_on_page(view, html: str) -> set[str]:
    base = re.escape(view.url.rstrip("/"))
    ids = set(re.findall(base + r"/(?:details|edit)/\?id=([^&\"']+)", html))
    ids |= set(re.findall(r'name="rowid" class="action-checkbox" value="([^"]+)"', html))
    return ids


def _plain(view) -> bool:
    """True when the view lists the whole (scoped) table: no get_query of its own."""
    return type(view).get_query is ModelView.get_query and \
        type(view).get_count_query is ModelView.get_count_query


def _export_cells(export_type: str, data: bytes) -> tuple[int, set[str]]:
    """(number of data rows, every cell value) of an exported file."""
    if export_type == "csv":
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    elif export_type == "xlsx":
        from openpyxl import load_workbook

        sheet = load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    else:
        raise AssertionError(f"the test cannot read {export_type} exports yet")
    cells = {str(c).strip() for row in rows[1:] for c in row if c is not None}
    return len(rows) - 1, cells


def _check_list(app, view, client, seer, username, problems: list[str]) -> None:
    r = client.get(view.url.rstrip("/") + "/")
    if not expect_access(r, username, True, f"list {view.endpoint}", problems):
        return
    rows = visible(app, view.model, seer)
    shown = _ids_on_page(view, r.text)
    extra = shown - {str(k) for k in rows}
    if extra:
        problems.append(f"list {view.endpoint}: rows outside scope shown: {sorted(extra)[:10]}")
    if rows and not shown and view.can_view_details:
        problems.append(f"list {view.endpoint}: no row links found although "
                        f"{len(rows)} rows are visible")
    if view.simple_list_pager:  # no COUNT(*) on big tables: a full first page instead
        if len(shown) != min(len(rows), view.page_size):
            problems.append(f"list {view.endpoint}: {len(shown)} rows shown, expected "
                            f"{min(len(rows), view.page_size)}")
    elif _plain(view):
        m = PAGE_COUNT.search(r.text)
        count = int(m.group(1)) if m else 0
        if count != len(rows):
            problems.append(f"list {view.endpoint}: count {count}, expected {len(rows)}")


def _check_by_id(app, view, client, seer, username, allowed, problems: list[str]) -> None:
    rows = every(app, view.model)
    seen = visible(app, view.model, seer) if allowed else {}
    inside = sorted(seen)[:1]
    outside = sorted(set(rows) - set(seen))[:3]
    can_edit = allowed and may(app, username, f"{view.permission}.edit")
    for page in ("details", "edit"):
        if page == "details" and not view.can_view_details:
            continue
        for pk in inside:
            r = client.get(f"{view.url}/{page}/?id={pk}")
            want_ok = page == "details" or can_edit
            where = f"{page} {view.endpoint} id={pk} (in scope)"
            if page == "edit" and r.status_code == 302 and _refused_by_review(view, r):
                r = client.get(r.location)  # not this person's to change: its details page
            if want_ok:
                if r.status_code != 200:
                    problems.append(f"{where}: status {r.status_code}, expected 200")
                elif seen[pk] and not shows(seen[pk], r.text):
                    problems.append(f"{where}: {seen[pk]!r} not on the page")
            elif r.status_code != 302:
                problems.append(f"{where}: status {r.status_code}, expected a redirect")
        for pk in outside:
            r = client.get(f"{view.url}/{page}/?id={pk}")
            where = f"{page} {view.endpoint} id={pk} (out of scope)"
            if not allowed:
                expect_access(r, username, False, where, problems)
                continue
            if r.status_code not in (302, 404):
                problems.append(f"{where}: status {r.status_code}, expected 302/404")
            label = rows[pk]
            landing = client.get(r.location) if r.status_code == 302 else r
            if label and (shows(label, r.text) or shows(label, landing.text)):
                problems.append(f"{where}: {label!r} was shown")


def _refused_by_review(view, response) -> bool:
    """An in-scope row of a workflow-backed view that this person may not change (a
    reviewer's, or one under review): the edit page sends them to the row's details page.
    Who may change what is tests/plugins/test_review_matrix.py's; here only scope counts."""
    return getattr(view, "review_workflow", None) is not None and \
        f"{view.url}/details/" in response.location


def _check_exports(app, view, client, seer, username, allowed, problems: list[str]) -> None:
    if not view.can_export:
        return
    seen = visible(app, view.model, seer)
    outside = set(every(app, view.model).values()) - set(seen.values()) - {None}
    for export_type in view.export_types:
        r = client.get(f"{view.url}/export/{export_type}/")
        where = f"export {export_type} {view.endpoint}"
        if not expect_access(r, username, allowed, where, problems):
            continue
        n_rows, cells = _export_cells(export_type, r.data)
        if _plain(view) and n_rows != len(seen):
            problems.append(f"{where}: {n_rows} rows, expected {len(seen)}")
        labels = {v for v in seen.values() if v}
        if labels - cells:
            problems.append(f"{where}: in-scope rows missing: {sorted(labels - cells)[:5]}")
        if outside & cells:
            problems.append(f"{where}: rows outside scope exported: {sorted(outside & cells)[:5]}")


def _check_ajax(app, view, client, seer, username, allowed, problems: list[str]) -> None:
    for name, loader in (getattr(view, "_form_ajax_refs", None) or {}).items():
        r = client.get(f"{view.url}/ajax/lookup/?name={name}&query=&limit=100000")
        where = f"ajax lookup {view.endpoint}.{name}"
        if not expect_access(r, username, allowed, where, problems):
            continue
        offered = {str(pk) for pk, _label in r.get_json()}
        want = {str(k) for k in visible(app, loader.model, seer)}
        if offered != want:
            problems.append(f"{where}: offered {len(offered)} rows, "
                            f"outside scope {sorted(offered - want)[:5]}, "
                            f"missing {sorted(want - offered)[:5]}")


@pytest.mark.parametrize("username", ROLES, ids=lambda u: u or "anonymous")
def test_admin_views_follow_permissions_and_scope(app, clients, seers, username):
    client, seer = clients[username], seers[username]
    problems: list[str] = []
    for view in admin_views(app):
        allowed = may(app, username, f"{getattr(view, 'permission', '')}.view")
        index = client.get(view.url.rstrip("/") + "/")
        expect_access(index, username, allowed, f"index {view.endpoint}", problems)
        if not isinstance(view, ModelView):
            continue
        if allowed:
            _check_list(app, view, client, seer, username, problems)
        _check_by_id(app, view, client, seer, username, allowed, problems)
        _check_exports(app, view, client, seer, username, allowed, problems)
        _check_ajax(app, view, client, seer, username, allowed, problems)
    assert not problems, "\n".join(problems)


# --- API -----------------------------------------------------------------------------------


def _fetch_all(client, path: str) -> tuple[int, dict, list]:
    """Every page of an API list: (status, first page, all items)."""
    items: list = []
    first: dict = {}
    for page in range(1, 200):
        r = client.get(f"{path}?page={page}")
        if r.status_code != 200:
            return r.status_code, r.get_json() or {}, items
        body = r.get_json()
        first = first or body
        items += body.get("items", [])
        if not body.get("items") or len(items) >= body.get("total", 0):
            break
    return 200, first, items


@pytest.mark.parametrize("username", ROLES, ids=lambda u: u or "anonymous")
def test_api_routes_follow_permissions_and_scope(app, clients, seers, username):
    client, seer = clients[username], seers[username]
    problems: list[str] = []
    for rule in api_routes(app):
        if "GET" not in rule.methods or rule.rule in COVERED_ELSEWHERE:
            continue
        allowed = may(app, username, route_permission(app, rule, "GET") or "")
        model = model_for_path(rule.rule)
        seen = visible(app, model, seer) if model is not None else {}
        rows = every(app, model) if model is not None else {}
        if not rule.arguments:
            r = client.get(rule.rule)
            if not expect_access(r, username, allowed, f"GET {rule.rule}", problems, api=True):
                continue
            if "items" not in (r.get_json() or {}):
                continue
            if model is None:
                problems.append(f"GET {rule.rule}: a list whose model the test cannot tell; "
                                f"name the path after the table or add it to ROUTE_MODELS")
                continue
            status, first, items = _fetch_all(client, rule.rule)
            if status != 200:
                problems.append(f"GET {rule.rule}?page=N: status {status}")
                continue
            ids = {item["id"] for item in items}
            if first.get("total") != len(seen) or ids != set(seen):
                problems.append(f"GET {rule.rule}: total {first.get('total')} / {len(ids)} ids, "
                                f"expected {len(seen)}; outside scope "
                                f"{sorted(ids - set(seen))[:5]}")
            continue
        if model is None:
            problems.append(f"GET {rule.rule}: the test cannot tell the model of this route; "
                            f"name the path after the table or add it to ROUTE_MODELS")
            continue
        samples = [(pk, True) for pk in sorted(seen)[:1]] + \
            [(pk, False) for pk in sorted(set(rows) - set(seen))[:2]]
        if username is None or not allowed:
            samples = [(pk, False) for pk in sorted(rows)[:1]]
        for pk, in_scope in samples:
            path = rule.build({next(iter(rule.arguments)): pk}, append_unknown=False)[1]
            r = client.get(path)
            where = f"GET {path} ({'in' if in_scope else 'out of'} scope)"
            if not allowed or username is None:
                expect_access(r, username, False, where, problems, api=True)
            elif in_scope and not rule.rule.endswith(">"):
                expect_access(r, username, True, where, problems, api=True)
            elif in_scope:
                body = r.get_json() or {}
                if r.status_code != 200 or body.get("id") != pk:
                    problems.append(f"{where}: status {r.status_code}, id {body.get('id')}")
            elif rule.rule.endswith(">"):
                label = rows[pk]
                if r.status_code != 404 or (label and shows(label, r.text)):
                    problems.append(f"{where}: status {r.status_code}, expected 404 "
                                    f"without the row")
    assert not problems, "\n".join(problems)


def test_routes_covered_elsewhere_exist_and_name_a_real_test(app):
    """A route left out of the matrix must still exist and be checked by a named test."""
    from pathlib import Path

    rules = {rule.rule for rule in api_routes(app)}
    root = Path(__file__).resolve().parents[2]
    for path, test in COVERED_ELSEWHERE.items():
        assert path in rules, f"{path} is no longer a route"
        file, _sep, name = test.partition("::")
        assert f"def {name}(" in (root / file).read_text(encoding="utf-8"), test


def test_an_api_route_that_forgot_requires_is_closed(make_app):
    """Besides failing the test above, a route without ``@requires`` refuses everyone."""
    from flask.views import MethodView

    from core.web.api import ApiBlueprint, requires

    probe_app = make_app()
    blp = ApiBlueprint("forgot_probe", __name__, url_prefix="/api/v1/forgot-probe")

    @blp.route("/open")
    def forgot():
        return {"secret": "everyone could read this"}

    @blp.route("/guarded")
    @requires("budget_item.view")
    def guarded():
        return {"ok": True}

    @blp.route("/view")
    class Things(MethodView):
        @requires("budget_item.view")
        def get(self):
            return {"ok": True}

    probe_app.extensions["jixiao_api"].register_blueprint(blp)
    client = probe_app.test_client()
    assert do_login(client, "finance").status_code == 302
    r = client.get("/api/v1/forgot-probe/open")
    assert r.status_code == 403 and "secret" not in r.text
    assert client.get("/api/v1/forgot-probe/guarded").status_code == 200
    assert client.get("/api/v1/forgot-probe/view").status_code == 200
    assert client.head("/api/v1/forgot-probe/view").status_code == 200
