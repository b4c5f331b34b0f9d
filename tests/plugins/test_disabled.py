"""Every stage plugin can be switched off (``DISABLED_PLUGINS``) and the app still works.

For each plugin of ``core.plugins.BUILTIN_PLUGINS`` but ``system`` (which cannot be
disabled): the app starts without it; as finance and as a department user the home
page, every admin page its menu still links to and the OpenAPI document answer 200,
and nothing links to the disabled plugin's pages. ``OFF`` adds what a user of each
plugin would notice: its pages are gone (404), its API paths are not documented, and
the pages and API of the plugins that build on it keep working.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from core.plugins import BUILTIN_PLUGINS, REQUIRED_PLUGINS, hooks
from tests.support import csrf_from, do_login

USERS = ("finance", "dept01")  # the bureau, and a department
MENU_LINK = re.compile(r'href="(/admin/[^"?#]*)"')


@dataclass(frozen=True)
class Off:
    """What a user notices when the plugin is off."""

    gone: tuple[str, ...]  # pages that answer 404 and are linked from nowhere
    api_words: tuple[str, ...]  # no documented API path contains one of these
    pages: tuple[str, ...] = ()  # other plugins' pages that still answer 200 (finance)
    api: tuple[str, ...] = ("/api/v1/budget-items",)  # documented, and answer 200 (finance)
    documented: tuple[str, ...] = ()  # API paths still in the OpenAPI document
    home_without: tuple[str, ...] = ()  # words no longer on the home page
    check: Callable | None = None  # more, as finance: check(app, client)


def _scoring_without_agencies(app, client) -> None:
    """Agency scoring keeps answering eligibility; an assessment finds no engagement."""
    r = client.get("/api/v1/agencies/1/eligibility")
    assert r.status_code == 200 and "eligible" in r.get_json()
    token = csrf_from(client.get("/admin/agency_restriction/new/").text)
    r = client.post("/api/v1/agency-assessments", json={"engagement_id": 1},
                    headers={"X-CSRFToken": token})
    assert r.status_code == 422  # no engagement can be found without the agencies plugin


def _no_evaluation_results(app, client) -> None:
    from core.plugins import hooks

    with app.app_context():
        assert hooks().evaluation_results(year=2025) == []


OFF: dict[str, Off] = {
    "targets": Off(gone=("/admin/targetsheet/",), api_words=("target-sheets",),
                   pages=("/admin/budgetitem/",), home_without=("绩效目标表",)),
    "agencies": Off(
        gone=("/portal/", "/admin/engagement/"), api_words=("engagement", "work-log"),
        pages=("/admin/budgetitem/", "/admin/agency_assessment/", "/admin/agency_rating/",
               "/admin/agency_restriction/", "/admin/agency_appeal/",
               "/admin/agency_scoring_overview/"),
        documented=("/api/v1/agencies/{agency_id}/eligibility",),
        check=_scoring_without_agencies),
    "preassessment": Off(gone=("/admin/preassessment/", "/admin/preassessment-trigger/"),
                         api_words=("preassessment",), pages=("/admin/budgetitem/",)),
    "monitoring": Off(gone=("/admin/monitoringrecord/",), api_words=("monitoring",),
                      pages=("/admin/budgetitem/",)),
    "evaluation": Off(gone=("/admin/selfevaluation/",), api_words=("self-evaluation",),
                      pages=("/admin/targetsheet/",), check=_no_evaluation_results),
    "catalogue": Off(gone=("/admin/catalogue/", "/admin/catalogue-report/"),
                     api_words=("catalogue",)),
    "disclosure": Off(gone=("/disclosure/", "/admin/publication/"),
                      api_words=("publication", "disclosure")),
    "agency_fees": Off(gone=("/admin/fee_schedule/",), api_words=("/api/v1/fees",),
                       pages=("/admin/engagement/",)),
    "agency_scoring": Off(gone=("/admin/agency_assessment/",),
                          api_words=("agency-", "eligibility"), pages=("/admin/engagement/",),
                          api=("/api/v1/budget-items", "/api/v1/engagements")),
    "reports": Off(gone=("/admin/reports/", "/admin/reports/annual/"), api_words=(),
                   pages=("/admin/target-coverage/", "/admin/evaluation-coverage/")),
}


def test_every_plugin_that_can_be_disabled_is_in_the_table():
    assert set(OFF) == set(BUILTIN_PLUGINS) - REQUIRED_PLUGINS


@pytest.mark.parametrize("name", sorted(set(BUILTIN_PLUGINS) - REQUIRED_PLUGINS))
def test_app_works_with_the_plugin_disabled(app, make_app, name):
    off, expect = make_app(DISABLED_PLUGINS=[name]), OFF[name]
    assert hooks(off).pm.get_plugin(name) is None and hooks(app).pm.get_plugin(name) is not None
    for username in USERS:
        c = off.test_client()
        assert do_login(c, username).status_code == 302
        home = c.get("/admin/")
        assert home.status_code == 200, username
        for url in expect.gone:
            assert f'href="{url}' not in home.text, (username, url)
            assert c.get(url).status_code == 404, (username, url)
        for word in expect.home_without:
            assert word not in home.text, (username, word)
        for url in sorted(set(MENU_LINK.findall(home.text))):
            assert c.get(url).status_code == 200, (username, url)
        doc = c.get("/api/v1/openapi.json")
        assert doc.status_code == 200, username
        paths = doc.get_json()["paths"]
        assert not [p for p in paths for w in expect.api_words if w in p], username
        assert set(expect.api) | set(expect.documented) <= set(paths), username
    c = off.test_client()
    assert do_login(c, "finance").status_code == 302
    for url in (*expect.pages, *expect.api):
        assert c.get(url).status_code == 200, url
    if expect.check:
        expect.check(off, c)
