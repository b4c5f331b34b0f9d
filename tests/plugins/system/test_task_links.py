"""A task's link opens exactly what the task counts, and only inside the reader's scope."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from core.extensions import db
from core.models import OrgUnit
from core.plugins import hooks
from plugins.targets.models import TargetSheet
from tests.support import csrf_from, signed_in

LIST_COUNT = re.compile(r'class="nav-link active">[^<(]*\((\d+)\)</a>')


@pytest.mark.parametrize("year", [2025, 2026])
def test_every_finance_queue_link_lists_what_its_count_counts(app, login, year):
    client = login("finance")
    client.post(f"/year/{year}", data={"csrf_token": csrf_from(client.get("/admin/").text)})
    with signed_in(app, "finance") as principal:
        queues = [t for t in hooks(app).tasks(principal=principal, year=year) if t.count >= 1]
    assert queues, "the finance bureau has queues in the demo data"
    listed = {}
    for task in queues:
        found = LIST_COUNT.search(client.get(task.link).text)
        if found is not None:  # a list (a report page has nothing to count)
            listed[str(task.title)] = (int(found.group(1)), task.count)
    assert listed
    assert {title: n for title, n in listed.items() if n[0] != n[1]} == {}


def test_a_task_link_to_a_record_out_of_scope_is_not_found(app, login):
    with app.app_context():
        theirs = db.session.scalar(
            select(TargetSheet.id).join(OrgUnit, OrgUnit.id == TargetSheet.org_unit_id)
            .where(OrgUnit.code.like("D02%")).limit(1))
    with signed_in(app, "unit0101") as principal:
        links = [t.link for t in hooks(app).tasks(principal=principal, year=2026)
                 if "/targetsheet/sheet/" in t.link]
    client = login("unit0101")
    assert links and client.get(links[0]).status_code == 200
    assert client.get(f"/admin/targetsheet/sheet/?id={theirs}").status_code == 404
    assert client.get(f"/admin/targetsheet/edit/?id={theirs}").status_code in (302, 404)
