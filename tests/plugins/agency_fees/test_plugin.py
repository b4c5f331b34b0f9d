"""The plugin on and off, without the agencies plugin, and a bureau's own fee method."""

from __future__ import annotations

from decimal import Decimal

from core.plugins import hookimpl, hooks
from tests.plugins.agency_fees.conftest import RULES, api_post, rules
from tests.support import do_login


def test_the_plugin_works_without_the_agencies_plugin(app, make_app, make_schedule, code):
    make_schedule()
    off = make_app(DISABLED_PLUGINS=["agencies"])
    c = off.test_client()
    assert do_login(c, "finance").status_code == 302
    assert c.get("/admin/fee_quote/").status_code == 200
    assert c.get("/admin/fee_quote/reconciliation/").status_code == 200
    assert c.get("/admin/fee_quote/calculate/").status_code == 200
    r = api_post(c, "/api/v1/fees/quote", {"schedule_code": code, "stage": "evaluation",
                                           "staff_days": {"senior": "10"}})
    assert r.status_code == 200
    assert api_post(c, "/api/v1/fees/quotes",
                    {"engagement_id": 1, "schedule_code": code}).status_code == 404


def test_the_api_is_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"/api/v1/fees/quote", "/api/v1/fees/schedules", "/api/v1/fees/quotes"} <= set(paths)
    assert "post" in paths["/api/v1/fees/quotes"]


def test_the_dashboard_card_and_the_menu(app, login):
    page = login("finance").get("/admin/")
    assert "委托费用测算" in page.text and "服务费用测算" in page.text
    assert "/admin/fee_quote/calculate/" in page.text
    assert "/admin/fee_quote/calculate/" not in login("viewer").get("/admin/").text


def flat_fee(rules, inputs, explain=True):
    """A bureau's own method: a flat fee per staff day, whatever the grade."""
    from plugins.agency_fees.calc import FeeLine

    days = sum(inputs.staff_days.values(), Decimal(0))
    return [FeeLine("total", days * 1000, {"formula": f"{days} × 1000"})]


class FlatFeePlugin:
    @staticmethod
    @hookimpl
    def jixiao_fee_method(method):
        return flat_fee if method == "flat" else None


def test_a_bureau_adds_its_own_method_through_the_hook(app, login, make_schedule, code):
    pm = hooks(app)
    pm.register(FlatFeePlugin(), name="flat_fee_probe")
    try:
        make_schedule(rules(method="flat"))
        r = api_post(login("finance"), "/api/v1/fees/quote", {
            "schedule_code": code, "stage": "evaluation", "staff_days": {"senior": "2.5"}})
        assert r.get_json()["total"] == "2500.0"
        # the built-in methods still answer for their names
        assert RULES["method"] == "standard"
        r = api_post(login("finance"), "/api/v1/fees/schedules", {
            "code": code, "name": "x", "valid_from": "2030-01-01", "rules": rules(method="x")})
        assert "rules.method" in r.get_json()["details"]["json"]
    finally:
        pm.unregister(name="flat_fee_probe")
