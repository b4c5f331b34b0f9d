"""Rounds, reports, lights, bad input, decisions, coverage, import, jobs, API, pages, scope."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core.extensions import db
from core.models import AuditLog, BudgetItem, FiscalYear, Notification, State, User, WorkflowEvent
from core.plugins import hooks
from plugins.monitoring import figures as rules
from plugins.monitoring import service
from plugins.monitoring.models import (
    CorrectiveDecision,
    IndicatorProgress,
    Light,
    MonitoringRecord,
    MonitoringRound,
)
from tests.plugins.monitoring.conftest import CUTOFF, add_items, workbook
from tests.support import csrf_from, run_long_action


def record(world, n: int = 0) -> MonitoringRecord:
    return db.session.get(MonitoringRecord, world.record_ids[n])


def user(name: str) -> User:
    return db.session.scalar(select(User).where(User.username == name))


def fill(rec: MonitoringRecord, spent="300.00", achieved=("5", "95", "推进中"),
         forecast=("10", "95", "明显提升"), likely="certain", **extra) -> None:
    inds = {i.id: {"achieved": a, "forecast": f, "likelihood": likely}
            for i, a, f in zip(rec.indicators, achieved, forecast, strict=True)}
    service.save_record(rec, {"spent": spent, "indicators": inds, **extra}, user("unit0101"))


# --- opening a round -----------------------------------------------------------------------

def test_a_round_has_one_record_per_item_with_approved_targets(app, world):
    with app.app_context():
        expected = hooks().approved_targets(2026)
        rows = db.session.execute(select(MonitoringRecord.budget_item_id,
                                         func.count(IndicatorProgress.id))
                                  .join(IndicatorProgress)
                                  .where(MonitoringRecord.round_id == world.round_id)
                                  .group_by(MonitoringRecord.budget_item_id)).all()
        assert {item: n for item, n in rows} == {
            item: len(t.indicators) for item, t in expected.items()}
        rec = record(world)
        assert rec.budget == Decimal("1000.00") and rec.light == Light.PENDING
        assert rec.expected_rate == rules.expected_rate(date(2026, 1, 1), CUTOFF) == \
            Decimal("49.59")
        assert [(i.name, i.target_value) for i in rec.indicators] == [
            ("完成数量", "10"), ("验收合格率", "95"), ("服务水平", "明显提升")]


def test_reopening_adds_only_newly_approved_items(app, world):
    with app.app_context():
        rnd = db.session.get(MonitoringRound, world.round_id)
        assert service.open_round(rnd) == 0
        draft = add_items(1, state=State.DRAFT)
        approved = add_items(1)
        assert service.open_round(rnd) == 1
        ids = set(db.session.scalars(select(MonitoringRecord.budget_item_id).where(
            MonitoringRecord.round_id == rnd.id)))
        assert approved[0][0] in ids and draft[0][0] not in ids
        db.session.rollback()


def test_opening_goes_in_batches_and_reports_its_progress(app, world, monkeypatch):
    monkeypatch.setattr(service, "OPEN_BATCH", 2)
    steps = []
    with app.app_context():
        rnd = db.session.get(MonitoringRound, world.round_id)
        new = [i for i, _c in add_items(3)]
        assert service.items_to_open(rnd) == sorted(new)
        assert service.open_round(rnd, lambda done, total: steps.append((done, total))) == 3
        assert steps == [(2, 3), (3, 3)]
        assert db.session.scalar(select(func.count(IndicatorProgress.id)).join(
            MonitoringRecord).where(MonitoringRecord.budget_item_id.in_(new))) == 9
        db.session.rollback()


def test_finance_opens_a_round_in_the_admin_and_departments_cannot(app, login):
    finance = login("finance")
    page = finance.get("/admin/monitoringround/new/")
    assert page.status_code == 200
    with app.app_context():
        year_id = db.session.scalar(select(FiscalYear.id).where(FiscalYear.year == 2026))
    form = {"csrf_token": csrf_from(page.text), "fiscal_year": str(year_id), "name": "上半年",
            "period_start": "2026-01-01", "cutoff": "2026-05-31", "due": "2026-04-30"}
    r = finance.post("/admin/monitoringround/new/", data=form)
    assert r.status_code == 200 and "不能早于" in r.text  # due before the cut-off
    form["due"] = "2026-06-30"
    r = finance.post("/admin/monitoringround/new/", data=form)
    assert r.status_code == 302 and "/admin/monitoringround/open/" in r.headers["Location"]
    with app.app_context():
        rnd = db.session.scalar(select(MonitoringRound).where(
            MonitoringRound.cutoff == date(2026, 5, 31)))
        count = len(hooks().approved_targets(2026))
    try:
        url = "/admin/monitoringround/open/"
        page = finance.get(url, query_string={"id": rnd.id}).text
        assert f"创建 {count} 条监控记录" in page and "jixiao-confirm-start" in page
        with app.app_context():  # saving the round and asking create no record
            assert db.session.get(MonitoringRound, rnd.id).record_count == 0
        assert login("dept01").get(url, query_string={"id": rnd.id}).status_code == 403
        done = run_long_action(finance, url, id=str(rnd.id)).text
        assert f"已为监控批次“上半年”创建 {count} 条监控记录。" in done
        assert f"{count} / {count}" in done
        with app.app_context():
            assert db.session.get(MonitoringRound, rnd.id).record_count == count > 0
            assert db.session.scalar(select(func.count(MonitoringRecord.id)).where(
                MonitoringRecord.round_id == rnd.id)) == count
        again = finance.get(url, query_string={"id": rnd.id}).text
        assert "创建 0 条监控记录" in again and "disabled" in again
    finally:
        with app.app_context():
            db.session.delete(db.session.get(MonitoringRound, rnd.id))
            db.session.commit()
    assert login("dept01").get("/admin/monitoringround/new/").status_code in (302, 403)


def test_a_round_with_reports_cannot_be_deleted(app, login):
    client = login("finance")
    with app.app_context():
        rnd = db.session.scalar(select(MonitoringRound).where(
            MonitoringRound.cutoff == date(2026, 7, 31)))
    page = client.get("/admin/monitoringround/")
    r = client.post("/admin/monitoringround/delete/", data={
        "csrf_token": csrf_from(page.text), "id": str(rnd.id)}, follow_redirects=True)
    assert "关闭批次而不是删除" in r.text
    with app.app_context():
        assert db.session.get(MonitoringRound, rnd.id) is not None
    assert login("unit0101").get("/admin/monitoringrecord/new/").status_code in (302, 403)


# --- reports and lights --------------------------------------------------------------------

def test_report_gives_rates_deviations_and_a_light(app, world):
    with app.app_context():
        rec = record(world)
        fill(rec, spent="500.00")
        db.session.commit()
        rec = record(world)
        assert rec.execution_rate == Decimal("50.00")
        assert rec.spending_deviation == Decimal("-0.41")
        assert rec.indicator_deviation == Decimal("0.00") and rec.light == Light.GREEN
        fill(rec, spent="300.00")  # 30 % spent against 49.59 % of the year: 19.59 points behind
        assert record(world).light == Light.YELLOW
        fill(rec, spent="200.00")
        assert record(world).light == Light.RED
        fill(rec, spent="500.00", achieved=("2", "95", "推进中"))  # 2 of 4.959 expected: 59.67 %
        assert record(world).indicator_deviation == Decimal("59.67")
        assert record(world).light == Light.RED
        fill(rec, spent="500.00", likely="impossible")  # the forecast says it will be missed
        assert record(world).light == Light.RED
        fill(rec, spent="500.00")
        assert record(world).light == Light.GREEN
        db.session.rollback()


def test_the_set_based_lights_agree_with_the_rule(app, world):
    with app.app_context():
        rnd = db.session.get(MonitoringRound, world.round_id)
        service.refresh_lights(rnd.id)
        for rec in db.session.scalars(select(MonitoringRecord).where(
                MonitoringRecord.round_id == rnd.id)):
            assert rec.light == service.prospective_light(rec), rec
        db.session.rollback()


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"spent": "-1.00"}, "spent", "不能为负"),
    ({"spent": "10.005"}, "spent", "两位小数"),
    ({"spent": "abc"}, "spent", "金额"),
    ({"spent": "1000.01"}, "over_budget_note", "超过预算"),
    ({"reason": "bad luck"}, "reason", "原因"),
    ({"measures_due": "31/12/2026"}, "measures_due", "日期"),
])
def test_bad_reports_are_refused_with_the_field_and_nothing_written(app, world, data, field,
                                                                     message):
    with app.app_context():
        rec = record(world)
        with pytest.raises(service.MonitoringError) as exc:
            service.save_record(rec, data, user("unit0101"))
        db.session.rollback()
        assert [p.field for p in exc.value.problems] == [field]
        from flask_babel import force_locale

        with app.test_request_context(), force_locale("zh_Hans_CN"):
            assert message in str(exc.value.problems[0]), str(exc.value.problems[0])
        assert record(world).spent is None


def test_spending_above_budget_with_an_explanation_is_accepted(app, world):
    with app.app_context():
        rec = record(world)
        service.save_record(rec, {"spent": "1200.00", "over_budget_note": "追加预算已批复"},
                            user("unit0101"))
        assert rec.execution_rate == Decimal("120.00")
        db.session.rollback()


def test_one_bad_indicator_value_writes_nothing(app, world):
    with app.app_context():
        rec = record(world)
        ids = [i.id for i in rec.indicators]
        with pytest.raises(service.MonitoringError) as exc:
            service.save_record(rec, {"spent": "100.00", "indicators": {
                ids[0]: {"achieved": "3", "forecast": "10"},
                ids[1]: {"achieved": "-2", "forecast": "95"}}}, user("unit0101"))
        db.session.rollback()
        assert [p.field for p in exc.value.problems] == ["achieved"]
        rec = record(world)
        assert rec.spent is None and rec.indicators[0].achieved is None


def test_submission_needs_a_complete_report_and_a_reason_when_deviating(app, world):
    with app.app_context():
        rec = record(world)
        unit = user("unit0101")
        with pytest.raises(service.MonitoringError):
            service.transition(rec, "submit", unit)  # nothing entered yet
        fill(rec, spent="200.00")  # red
        with pytest.raises(service.MonitoringError) as exc:
            service.transition(rec, "submit", unit)
        assert {p.field for p in exc.value.problems} == {"reason", "measures"}
        service.save_record(rec, {"reason": "procurement_delay", "measures": "加快采购",
                                  "measures_due": "2026-09-30"}, unit)
        service.transition(rec, "submit", unit)
        assert rec.state == State.SUBMITTED and rec.submitted_at is not None
        with pytest.raises(service.MonitoringError):  # submitted: no more changes
            fill(rec, spent="900.00")
        db.session.rollback()


def test_nothing_is_submitted_or_changed_after_the_round_closes(app, world):
    with app.app_context():
        rec = record(world)
        fill(rec, spent="500.00")
        service.close_round(rec.round)
        db.session.flush()
        for attempt in (lambda: fill(rec, spent="600.00"),
                        lambda: service.transition(rec, "submit", user("unit0101"))):
            with pytest.raises(service.MonitoringError) as exc:
                attempt()
            assert exc.value.problems[0].field == "round"
        db.session.rollback()


# --- pages: the report form, scope, risk order ---------------------------------------------

def test_the_unit_reports_through_the_record_page(app, login, world):
    client = login("unit0101")
    page = client.get(f"/admin/monitoringrecord/record/?id={world.record_ids[0]}")
    assert page.status_code == 200 and "服务水平" in page.text
    with app.app_context():
        from plugins.monitoring.models import MonitoringRecord

        budget = db.session.get(MonitoringRecord, world.record_ids[0]).budget
    assert f'class="jixiao-budget">{budget:,.2f}<' in page.text  # yuan as 1,234,567.89
    with app.app_context():
        ind_ids = [i.id for i in record(world).indicators]
    data = {"csrf_token": csrf_from(page.text), "id": world.record_ids[0], "spent": "-5",
            "action": "save"}
    r = client.post("/admin/monitoringrecord/save/", data=data, follow_redirects=True)
    assert "不能为负" in r.text
    data.update({"spent": "500.00", **{f"achieved_{i}": v for i, v in zip(
        ind_ids, ("5", "95", "推进中"), strict=True)}, **{f"forecast_{i}": v for i, v in zip(
            ind_ids, ("10", "95", "明显提升"), strict=True)},
        **{f"likelihood_{i}": "certain" for i in ind_ids}, "action": "submit"})
    r = client.post("/admin/monitoringrecord/save/", data=data, follow_redirects=True)
    assert "已提交" in r.text or "Submitted" in r.text
    with app.app_context():
        rec = record(world)
        assert rec.state == State.SUBMITTED and rec.light == Light.GREEN
    # the department accepts it
    dept = login("dept01")
    page = dept.get(f"/admin/monitoringrecord/record/?id={world.record_ids[0]}")
    r = dept.post("/admin/monitoringrecord/workflow/", data={
        "csrf_token": csrf_from(page.text), "id": world.record_ids[0], "action": "approve"})
    assert r.status_code == 302
    with app.app_context():
        assert record(world).state == State.APPROVED


def test_lists_are_sorted_by_risk_and_scoped(app, login, world):
    with app.app_context():
        fill(record(world, 0), spent="500.00")
        fill(record(world, 1), spent="100.00")  # red
        db.session.commit()
    dept = login("dept02")  # another department: does not see D01's items
    r = dept.get("/admin/monitoringrecord/?search=" + world.codes[0][:12])
    assert r.status_code == 200 and world.codes[0] not in r.text
    unit = login("unit0101")
    r = unit.get("/admin/monitoringrecord/?search=" + world.codes[0][:12])
    assert r.text.index(world.codes[1]) < r.text.index(world.codes[0])  # red first
    body = unit.get(f"/api/v1/monitoring-records?round_id={world.round_id}").get_json()
    lights = [i["light"] for i in body["items"]]
    rank = {"red": 3, "yellow": 2, "green": 1, "pending": 0}
    assert [rank[x] for x in lights] == sorted((rank[x] for x in lights), reverse=True)
    with app.app_context():
        mine = db.session.scalar(select(func.count(MonitoringRecord.id)).join(BudgetItem).where(
            MonitoringRecord.round_id == world.round_id,
            BudgetItem.code.like("%-D01U01-%") | BudgetItem.code.in_(world.codes)))
    assert body["total"] == mine
    other = login("dept02").get(f"/api/v1/monitoring-records/{world.record_ids[0]}")
    assert other.status_code == 404


# --- corrective decisions ------------------------------------------------------------------

def test_decisions_only_on_red_items_follow_the_workflow_and_reach_the_item(app, login, world):
    with app.app_context():
        finance = user("finance")
        rec = record(world)
        fill(rec, spent="500.00")
        with pytest.raises(service.MonitoringError):
            service.new_decision(rec, "stop_project", "不该", finance)
        fill(rec, spent="100.00")
        db.session.refresh(rec)
        with pytest.raises(service.MonitoringError) as exc:
            service.new_decision(rec, "adjust_budget", "进度滞后", finance, new_budget="-1")
        assert exc.value.problems[0].field == "new_budget"
        decision = service.new_decision(rec, "adjust_budget", "进度滞后", finance,
                                        new_budget="600.00")
        service.decide(decision, "submit", finance)
        with pytest.raises(service.MonitoringError):
            service.decide(decision, "approve", user("dept01"))
        service.decide(decision, "approve", finance)
        db.session.commit()
        item = db.session.get(BudgetItem, world.item_ids[0])
        assert item.amount == Decimal("600.00")
        events = db.session.scalars(select(WorkflowEvent.action).where(
            WorkflowEvent.object_type == "corrective_decision",
            WorkflowEvent.object_id == decision.id)).all()
        assert events == ["submit", "approve"]
        assert db.session.scalar(select(func.count(AuditLog.id)).where(
            AuditLog.object_type == "budget_item",
            AuditLog.object_id == str(item.id))) >= 1
    page = login("unit0101").get(
        f"/admin/monitoringrecord/history/?item_id={world.item_ids[0]}")
    assert page.status_code == 200 and "进度滞后" in page.text and "调整预算" in page.text


def test_finance_records_a_decision_on_the_record_page(app, login, world):
    with app.app_context():
        fill(record(world), spent="100.00")
        db.session.commit()
    client = login("finance")
    page = client.get(f"/admin/monitoringrecord/record/?id={world.record_ids[0]}")
    r = client.post("/admin/monitoringrecord/decide/", data={
        "csrf_token": csrf_from(page.text), "id": world.record_ids[0],
        "decision": "rectification", "reason": "限期整改", "due": ""}, follow_redirects=True)
    assert "整改" in r.text
    with app.app_context():
        assert not db.session.scalar(select(CorrectiveDecision.id).where(
            CorrectiveDecision.record_id == world.record_ids[0]))
    client.post("/admin/monitoringrecord/decide/", data={
        "csrf_token": csrf_from(page.text), "id": world.record_ids[0],
        "decision": "rectification", "reason": "限期整改", "due": "2026-10-31"})
    with app.app_context():
        decision = db.session.scalar(select(CorrectiveDecision).where(
            CorrectiveDecision.record_id == world.record_ids[0]))
        assert decision.state == State.SUBMITTED
    dept = login("dept01")
    page = dept.get(f"/admin/monitoringrecord/record/?id={world.record_ids[0]}")
    assert dept.post("/admin/monitoringrecord/decide/", data={
        "csrf_token": csrf_from(page.text), "id": world.record_ids[0],
        "decision": "stop_project", "reason": "x"}).status_code == 403


# --- coverage ------------------------------------------------------------------------------

def test_coverage_per_department_lists_items_never_monitored(app, login, world):
    client = login("finance")
    r = client.get("/admin/monitoring-coverage/?year=2026")
    assert r.status_code == 200 and world.codes[0] in r.text
    with app.app_context():
        rec = record(world)
        fill(rec, spent="500.00")
        service.transition(rec, "submit", user("unit0101"))
        service.transition(rec, "approve", user("dept01"))
        db.session.commit()
        from plugins.monitoring.coverage import coverage

        lines, total, never = coverage(2026)
        codes = {code for code, *_rest in never}
        assert world.codes[0] not in codes and world.codes[1] in codes
        assert total.items == len(hooks().approved_targets(2026))
        assert total.monitored == db.session.scalar(
            select(func.count(func.distinct(MonitoringRecord.budget_item_id)))
            .join(MonitoringRound).join(FiscalYear)
            .where(FiscalYear.year == 2026, MonitoringRecord.state == State.APPROVED))
        assert sum(line.items for line in lines) == total.items
    dept = login("dept02").get("/admin/monitoring-coverage/?year=2026")
    assert dept.status_code == 200 and world.codes[1] not in dept.text


# --- Excel import --------------------------------------------------------------------------

def _import(client, round_id: int, data: bytes):
    page = client.get("/admin/monitoringrecord/import/")
    return client.post("/admin/monitoringrecord/import/", data={
        "csrf_token": csrf_from(page.text), "round": str(round_id),
        "file": (io.BytesIO(data), "spending.xlsx")}, content_type="multipart/form-data")


def test_import_writes_spending_and_lights(app, login, world):
    r = _import(login("unit0101"), world.round_id, workbook([
        (world.codes[0], 500, None), (world.codes[1], "1100.50", "追加预算")]))
    assert r.status_code == 302, r.text[-1500:]
    with app.app_context():
        assert record(world, 0).spent == Decimal("500.00")
        assert record(world, 0).light == Light.GREEN
        assert record(world, 1).over_budget_note == "追加预算"


def test_a_bad_import_lists_every_error_by_row_and_column_and_writes_nothing(app, login, world):
    r = _import(login("unit0101"), world.round_id, workbook([
        (world.codes[0], 500, None), (world.codes[1], -3, None), ("NOPE-1", 10, None),
        (world.codes[1], 1500, None), (world.codes[0], "12.345", None)]))
    assert r.status_code == 200
    text = r.text
    for row, cell in ((3, "B 累计支出（元）"), (4, "A 项目编码"), (5, "C 超预算说明"),
                      (6, "B 累计支出（元）")):
        assert f"<td>{row}</td><td>{cell}</td>" in text, (row, cell)
    assert "NOPE-1" in text and "超过预算" in text and "不能为负" in text
    with app.app_context():
        assert record(world, 0).spent is None
    # items of another department are "not in the round" for a department user
    r = _import(login("dept02"), world.round_id, workbook([(world.codes[0], 1, None)]))
    assert world.codes[0] in r.text and "不在本批次" in r.text


def test_import_into_a_closed_round_is_refused(app, login, world):
    with app.app_context():
        service.close_round(db.session.get(MonitoringRound, world.round_id))
        db.session.commit()
    r = _import(login("finance"), world.round_id, workbook([(world.codes[0], 1, None)]))
    assert "已关闭" in r.text or r.status_code == 200
    with app.app_context():
        assert record(world, 0).spent is None


# --- API -----------------------------------------------------------------------------------

def test_api_report_refuses_bad_figures_and_submits(app, login, world):
    client = login("unit0101")
    url = f"/api/v1/monitoring-records/{world.record_ids[0]}"
    body = client.get(url).get_json()
    ids = [i["id"] for i in body["indicators"]]
    page = client.get("/admin/")
    headers = {"X-CSRFToken": csrf_from(page.text)}
    bad = client.put(url, json={"spent": "-1", "indicators": [{"id": 999999, "achieved": "1"}]},
                     headers=headers)
    assert bad.status_code == 422 and {"spent", "record"} <= set(bad.get_json()["details"])
    good = client.put(url, headers=headers, json={"spent": "500.00", "submit": True, "indicators": [
        {"id": ids[0], "achieved": "5", "forecast": "10", "likelihood": "certain"},
        {"id": ids[1], "achieved": "95", "forecast": "95", "likelihood": "certain"},
        {"id": ids[2], "achieved": "推进中", "forecast": "明显提升", "likelihood": "certain"}]})
    assert good.status_code == 200, good.get_json()
    assert good.get_json()["light"] == "green" and good.get_json()["state"] == "submitted"
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "/api/v1/monitoring-records/{record_id}" in paths


# --- jobs ----------------------------------------------------------------------------------

def _run(app, fn, day: date):
    from zoneinfo import ZoneInfo

    from core.services.scheduler import JobRun

    with app.app_context():
        result = fn(JobRun("test", day.isoformat(), datetime.combine(
            day, datetime.min.time(), tzinfo=ZoneInfo("Asia/Shanghai"))))
        db.session.commit()
        return result


def test_the_scheduler_opens_the_configured_round_once(make_app, app):
    from plugins.monitoring.jobs import open_scheduled_rounds

    other = make_app(MONITORING_SCHEDULE=[
        {"open": "06-01", "start": "01-01", "cutoff": "05-31", "due": "06-20"}])
    assert _run(other, open_scheduled_rounds, date(2026, 5, 31)) == "nothing to open today"
    assert "records" in _run(other, open_scheduled_rounds, date(2026, 6, 1))
    assert _run(other, open_scheduled_rounds, date(2026, 6, 1)) == "nothing to open today"
    with other.app_context():
        rnd = db.session.scalar(select(MonitoringRound).where(
            MonitoringRound.cutoff == date(2026, 5, 31)))
        assert rnd.record_count == len(hooks().approved_targets(2026)) and rnd.due == date(2026, 6, 20)
        db.session.delete(rnd)
        db.session.commit()


def test_reminders_before_the_deadline_and_when_overdue(app, world):
    from plugins.monitoring.jobs import due_reminders

    def notes() -> int:
        with app.app_context():
            return db.session.scalar(select(func.count(Notification.id)).where(
                Notification.user_id == user("unit0101").id,
                Notification.title.contains("测试批次")))

    assert "0 notifications" in _run(app, due_reminders, date(2026, 7, 20)) or notes() == 0
    before = notes()
    _run(app, due_reminders, date(2026, 7, 24))  # 7 days before 31 July
    assert notes() == before + 1
    _run(app, due_reminders, date(2026, 8, 2))  # overdue
    assert notes() == before + 2
    with app.app_context():
        assert "逾期" in db.session.scalar(select(Notification.title).where(
            Notification.user_id == user("unit0101").id).order_by(Notification.id.desc()))


# --- dashboard and the plugin switched off -------------------------------------------------

def test_dashboard_cards_and_charts(login):
    client = login("finance")
    home = client.get("/admin/")
    assert home.status_code == 200
    # the monitoring stage's card: a bar per light, each a link to the records of that light
    card = home.text.split('data-stage="monitoring"')[1]
    assert "红灯" in card and "flt" in card.split("红灯")[0][-400:]
    assert "monitoring-progress" in home.text
    assert "<script" not in home.text.split("monitoring-progress")[1][:2000]
    page = client.get("/admin/monitoring-dashboard/")
    assert page.status_code == 200 and "<svg" in page.text
    assert "绩效运行监控" in client.get("/admin/monitoringround/").text


def test_a_department_sees_only_its_own_lights(app):
    from flask_login import login_user

    from plugins.monitoring.widgets import latest_round, summary

    counts = {}
    for name in ("finance", "dept01"):
        with app.test_request_context():
            login_user(user(name))
            rnd = latest_round()
            counts[name] = sum(summary(rnd).lights.values())
            expected = db.session.scalar(select(func.count(MonitoringRecord.id)).where(
                MonitoringRecord.round_id == rnd.id))  # through the same row scope
        with app.app_context():
            org = user(name).org_unit
            everything = db.session.scalar(select(func.count(MonitoringRecord.id)).join(
                BudgetItem).where(MonitoringRecord.round_id == rnd.id,
                                  BudgetItem.code.contains(f"-{org.code}")))
        assert counts[name] == expected
        if name == "dept01":
            assert counts[name] == everything > 0
    assert counts["finance"] > counts["dept01"]


def test_rounds_are_empty_when_the_targets_plugin_is_off(make_app, app):
    off = make_app(DISABLED_PLUGINS=["targets"])
    with off.app_context():
        year = db.session.scalar(select(FiscalYear).where(FiscalYear.year == 2026))
        rnd = service.new_round(year, "无目标", date(2026, 1, 1), date(2026, 3, 31),
                                date(2026, 4, 30))
        assert service.open_round(rnd) == 0
        db.session.rollback()
