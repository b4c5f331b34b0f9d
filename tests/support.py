"""Plain helpers every test folder shares (the shared fixtures are in ``tests/conftest.py``).

Logging in through the form, API tokens, the demo agencies' engagements and Excel
workbooks built in memory. Functions that touch the database expect an app context.
"""

from __future__ import annotations

import html
import io
import json
import os
import re
import secrets
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal

from openpyxl import Workbook
from sqlalchemy import select

from core.extensions import db
from core.models import BudgetItem, OrgUnit, State, User
from plugins.system.demo import DEMO_PASSWORD

# --- apps ----------------------------------------------------------------------------------

TEST_SETTINGS = {"TESTING": True, "SECRET_KEY": "testing-secret"}


def new_app(database_url: str, instance_path: str, **config):
    """An app of the test settings on ``database_url``; keyword arguments become config."""
    from core import create_app

    os.environ["JIXIAO_INSTANCE_PATH"] = instance_path
    return create_app({"SQLALCHEMY_DATABASE_URI": database_url, **TEST_SETTINGS, **config})


def migrate_and_seed(app) -> None:
    """Build the schema with the migrations and load the small demo data set."""
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()
    result = app.test_cli_runner().invoke(args=["jixiao", "seed-demo", "--scale", "small"])
    assert result.exit_code == 0, result.output


@contextmanager
def registered(app, plugin) -> Iterator:
    """``plugin`` (an object with ``@hookimpl`` methods, standing in for another plugin)
    answers the hooks of ``app`` inside the block."""
    from core.plugins import hooks

    hooks(app).register(plugin, name=f"{type(plugin).__name__}-{id(plugin)}")
    try:
        yield plugin
    finally:
        hooks(app).unregister(plugin)


# --- logging in ----------------------------------------------------------------------------

_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def csrf_from(html: str) -> str:
    """The CSRF token of the (first) form on a page."""
    m = _TOKEN.search(html)
    assert m, "no csrf_token on the page"
    return m.group(1) or m.group(2)


def run_long_action(client, url: str, **fields):
    """Confirm a long action (its page at ``url``, with ``fields`` as the query), start
    it, and wait on its progress page until the job has ended; returns that page."""
    import time

    page = client.get(url, query_string=fields)
    assert page.status_code == 200, page.status_code
    started = client.post(url, data={"csrf_token": csrf_from(page.text), **fields})
    assert started.status_code == 302, started.status_code
    progress = started.headers["Location"]
    status = progress.replace("/progress/", "/status/")
    for _ in range(600):
        if client.get(status).get_json()["finished"]:
            return client.get(progress)
        time.sleep(0.1)
    raise AssertionError(f"{progress}: the job did not end")


def do_login(client, username: str, password: str = DEMO_PASSWORD):
    """Log in through the login form; the response (a 302 when it worked)."""
    page = client.get("/login")
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": csrf_from(page.text)})


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


# --- API tokens ----------------------------------------------------------------------------

def bearer(plaintext: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {plaintext}"}


def token_headers(app, username: str) -> dict[str, str]:
    """Headers with a new personal API token of ``username`` (made in the database)."""
    from core.services.api_tokens import create_token

    with app.app_context():
        plaintext, _row = create_token(user(username), "test")
        db.session.commit()
    return bearer(plaintext)


def new_token(app, username: str, *args: str) -> str:
    """A personal API token made the way an operator makes one (``flask jixiao token create``)."""
    result = app.test_cli_runner().invoke(args=["jixiao", "token", "create", username, *args])
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


# --- the demo agencies' engagements --------------------------------------------------------

def member_agency(username: str) -> int:
    """The agency the demo agency user ``username`` works for."""
    from plugins.agencies.models import AgencyMember

    return db.session.scalar(select(AgencyMember.agency_id).where(
        AgencyMember.user_id == user(username).id))


def make_engagement(agency_id: int, staff_ids: list[int], item_ids: list[int], *, tag: str = "",
                    n: int = 0, prefix: str = "T", title: str = "测试委托",
                    org_code: str = "D01", state=State.APPROVED, kind=None,
                    contract_amount: Decimal = Decimal("150000.00"),
                    budget_amount: Decimal | None = Decimal("200000.00"),
                    end_on: date = date(2026, 10, 31)):
    """An engagement of ``agency_id`` commissioned by ``org_code`` for the items, with the staff
    as its team; its code starts with ``{prefix}-{tag}-{n}-`` (flushed, not committed)."""
    from plugins.agencies.models import AgencyStaff, Engagement, Procurement, WorkKind

    org = db.session.scalar(select(OrgUnit).where(OrgUnit.code == org_code))
    eng = Engagement(
        code=f"{prefix}-{tag}-{n}-{secrets.token_hex(2)}", title=f"{title}{tag}{n}",
        org_unit_id=org.id, agency_id=agency_id, kind=kind or WorkKind.EVALUATION,
        procurement=Procurement.GOVERNMENT_PROCUREMENT, contract_amount=contract_amount,
        budget_reference="2026年度绩效评价经费", budget_amount=budget_amount,
        start_on=date(2026, 3, 1), end_on=end_on, state=state,
        review_level=1 if state == State.APPROVED else 0)
    eng.items = list(db.session.scalars(select(BudgetItem).where(BudgetItem.id.in_(item_ids))))
    eng.team = list(db.session.scalars(select(AgencyStaff).where(AgencyStaff.id.in_(staff_ids))))
    db.session.add(eng)
    db.session.flush()
    return eng


# --- Excel workbooks -----------------------------------------------------------------------

def xlsx(sheets: dict[str, Iterable[Iterable]], merged: Iterable[tuple[str, str]] = (),
         edit: Callable | None = None) -> bytes:
    """An .xlsx file of ``sheets`` (title → rows, in order); ``merged`` ranges (title, "A1:B2");
    ``edit(first_sheet)`` may change cells before saving."""
    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(list(row))
    for title, ref in merged:
        wb[title].merge_cells(ref)
    if not wb.sheetnames:
        wb.create_sheet("Sheet")
    if edit:
        edit(wb.worksheets[0])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def workbook(rows, headers, sheet: str = "Sheet", edit: Callable | None = None) -> bytes:
    """An .xlsx file with one sheet: a header row, then ``rows``."""
    return xlsx({sheet: [headers, *rows]}, edit=edit)


# --- admin list pages ----------------------------------------------------------------------

def filter_groups(page: str) -> dict[str, list[dict]]:
    """The list filters a Flask-Admin list page offers: label → operations with options."""
    match = re.search(r'<div id="filter-groups-data" class="d-none">(.*?)</div>', page, re.S)
    return json.loads(html.unescape(match.group(1))) if match else {}


def filter_options(page: str, label: str) -> list[tuple[str, str]]:
    """``(value, text)`` of the options of the filter ``label`` (e.g. 部门, 状态)."""
    groups = filter_groups(page)
    assert label in groups, f"the list has no {label} filter: {sorted(groups)}"
    return [tuple(option) for option in groups[label][0]["options"] or []]


def filter_args(page: str, label: str, text: str, position: int = 0) -> dict[str, str]:
    """The query string that filters the list by the option shown as ``text``."""
    groups = filter_groups(page)
    flt = groups[label][0]
    value = next(v for v, t in filter_options(page, label) if t == text)
    return {f"flt{position}_{flt['arg']}": value}


def list_rows(page: str) -> list[str]:
    """The rows (``<tr>`` HTML) of a list page's table body."""
    body = page.split("</thead>", 1)[1].split("</table>", 1)[0]
    return [row for row in body.split("<tr")[1:] if "<td" in row]


def cells(row: str) -> list[str]:
    """The text of each cell of a list row."""
    return [html.unescape(re.sub(r"<[^>]+>", "", c)).strip()
            for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]


def list_ids(page: str) -> list[int]:
    """The id of each row of a list page (its details/edit link comes first in the row)."""
    ids = []
    for row in list_rows(page):
        found = re.search(r"[?&;]id=(\d+)", row)
        assert found, f"a row without an id: {row[:300]}"
        ids.append(int(found.group(1)))
    return ids


def column_texts(page: str, header: str) -> list[str]:
    """The text of the column headed ``header`` on every row of a list page."""
    head = page.split("<thead", 1)[1].split("</thead>", 1)[0]
    titles = [html.unescape(re.sub(r"<[^>]+>", "", t)).strip()
              for t in re.findall(r"<th[^>]*>(.*?)</th>", head, re.S)]
    assert header in titles, f"no column {header}: {titles}"
    index = titles.index(header)
    return [cells(row)[index] for row in list_rows(page)]


def filtered(client, url: str, label: str, text: str) -> str:
    """The list page at ``url`` filtered by the option ``text`` of its filter ``label``."""
    page = client.get(url).text
    response = client.get(url, query_string=filter_args(page, label, text))
    assert response.status_code == 200
    return response.text


def ids_where(model, *where) -> set[int]:
    """Ids of ``model`` rows matching ``where``, whoever may see them (app context)."""
    from core.scope import unscoped

    with unscoped() as session:
        return set(session.scalars(select(model.id).where(*where)))


def department_with_rows(model) -> OrgUnit:
    """The department (the org unit at depth 2 of the tree) of the first row of ``model``
    that belongs to a department or one of its units."""
    from core.scope import unscoped

    with unscoped() as session:
        path = session.scalar(select(OrgUnit.path).join(
            model, model.org_unit_id == OrgUnit.id).where(OrgUnit.path.like("/%/%/%"))
            .order_by(model.id).limit(1))
        assert path, f"no {model.__name__} rows of a department in the demo data"
        return session.get(OrgUnit, int(path.strip("/").split("/")[1]))


def assert_department_filter(app, client, url: str, model, page_size: int = 20) -> None:
    """Filtering ``url`` by one department lists only rows of that department's subtree."""
    with app.app_context():
        dept = department_with_rows(model)
        name, path = dept.name, dept.path
        expected = ids_where(model, model.org_unit_id.in_(
            select(OrgUnit.id).where(OrgUnit.path.startswith(path))))
        others = ids_where(model) - expected
    ids = list_ids(filtered(client, url, "部门", name))
    assert ids and set(ids) <= expected
    assert len(ids) == min(len(expected), page_size)
    assert others, "the test needs rows of other departments"


def assert_state_filter(app, client, url: str, model, word: str, *where) -> None:
    """The 状态 option ``word`` lists exactly the rows matching ``where`` (state and level),
    and each of them shows ``word`` in its 状态 column."""
    with app.app_context():
        expected = ids_where(model, *where)
    page = filtered(client, url, "状态", word)
    ids = list_ids(page)
    assert ids and set(ids) <= expected
    assert set(column_texts(page, "状态")) == {word}


@contextmanager
def signed_in(app, username: str) -> Iterator:
    """A request context of ``app`` with ``username`` logged in; yields their principal
    (what a hook like ``jixiao_tasks`` sees while that person browses)."""
    from flask_login import login_user

    from core.scope import current_principal, unscoped

    with app.test_request_context():
        with unscoped():
            person = user(username)
        login_user(person)
        yield current_principal()


_result_ids = iter(range(700_000, 1_000_000))


def evaluation_result(item_ids, *, year: int, org_unit_id: int = 0, kind: str = "department_key",
                      score: str = "85.00", grade: str = "B", amount: str = "1.00",
                      title: str = "测试评价", summary: str = "公开摘要", final_month: int = 5):
    """A final ``EvaluationResult`` of ``item_ids`` as the evaluation plugin would broadcast it
    (a fresh id each call; finalized in the year after ``year``)."""
    from datetime import datetime
    from decimal import Decimal

    from core.contracts import EvaluationResult

    return EvaluationResult(
        id=next(_result_ids), kind=kind, object_kind="project", fiscal_year=year,
        org_unit_id=org_unit_id, title=title, budget_item_ids=tuple(item_ids),
        amount=Decimal(amount), score=Decimal(score), grade=grade,
        finalized_at=datetime(year + 1, final_month, 1), summary=summary)
