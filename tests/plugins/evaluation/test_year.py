"""A whole year: the CLI, coverage, weights, the dashboard card, the plugin switched off."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core.extensions import db
from tests.plugins.evaluation.conftest import evaluation_of


def test_weights_follow_the_rule_version_and_add_up():
    from core.services.scoring import SELF_EVALUATION_2020
    from plugins.evaluation.weights import apportion, self_evaluation_weights

    assert apportion(Decimal(50), [Decimal(1)] * 3) == [Decimal("16.67"), Decimal("16.67"),
                                                        Decimal("16.66")]
    weights = self_evaluation_weights(
        SELF_EVALUATION_2020, ["产出", "产出", "产出", "效益", "满意度"],
        [Decimal(30), Decimal(20), Decimal(10), Decimal(30), Decimal(10)])
    assert weights == [Decimal("25.00"), Decimal("16.67"), Decimal("8.33"), Decimal("30.00"),
                       Decimal("10.00")]
    # no satisfaction indicator: its 10 points go to the others in proportion
    weights = self_evaluation_weights(SELF_EVALUATION_2020, ["产出", "效益"],
                                      [Decimal(70), Decimal(30)])
    assert weights == [Decimal("56.25"), Decimal("33.75")] and sum(weights) == 90


def _meet_every_target(ev):
    """The whole budget spent, every quantitative target met, every qualitative one partly."""
    ev.spent = Decimal("1000000.00")
    for line in ev.lines:
        if line.comparator == "qualitative":
            line.grade = "partly"
        else:
            line.actual = line.target_value


def test_the_cli_scores_every_self_evaluation_of_a_year(app, target_item, login):
    from core.models import AuditLog, ScoreRecord
    from core.services.audit_check import verify
    from plugins.evaluation.models import SelfEvaluation, SelfEvaluationLine

    item_id = target_item()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["jixiao", "evaluation", "create", "--year", "2025"])
    assert result.exit_code == 0 and "1 self-evaluations created" in result.output
    with app.app_context():
        ev = evaluation_of(item_id)
        _meet_every_target(ev)
        db.session.commit()
        ev_id = ev.id
        records = db.session.scalar(select(func.count(ScoreRecord.id)))
        entered = db.session.scalar(select(func.count(SelfEvaluation.id)).where(
            SelfEvaluation.spent.is_not(None), SelfEvaluation.finalized_at.is_(None)))
    result = runner.invoke(args=["jixiao", "evaluation", "score", "--year", "2025"])
    assert result.exit_code == 0, result.output
    assert f"{entered} self-evaluations scored" in result.output
    with app.app_context():
        ev = db.session.get(SelfEvaluation, ev_id)
        # 5.00 + 50.00 + 21.00 (70 % of 30) + 10.00
        assert ev.score == Decimal("86.00") and ev.grade == "good"
        # drafts keep no trace of their own: the page works it out from the lines
        assert db.session.scalar(select(func.count(ScoreRecord.id))) == records
    page = login("dept01").get(f"/admin/selfevaluation/score/?id={ev_id}").text
    assert "86.00" in page and "21.00" in page and "5.00" in page
    with app.app_context():
        # the batch is audited as a digest entry naming it, and the chain holds
        entry = db.session.scalars(select(AuditLog).where(
            AuditLog.object_type == "self_evaluation", AuditLog.action == "bulk_update")
            .order_by(AuditLog.id.desc()).limit(1)).one()
        assert entry.after["rows"] == entered and "2025" in entry.after["batch"]
        assert len(entry.after["sha256"]) == 64
        assert verify(db.session).ok
        # a bad value makes the command fail and name the evaluation
        line = db.session.scalar(select(SelfEvaluationLine).where(
            SelfEvaluationLine.evaluation_id == ev_id, SelfEvaluationLine.comparator == "ge"))
        line.actual = "很多"
        db.session.commit()
    result = runner.invoke(args=["jixiao", "evaluation", "score", "--year", "2025"])
    assert result.exit_code == 1 and f"#{ev_id}" in result.output


def test_coverage_per_department_and_town(app, login):
    finance = login("finance").get("/admin/evaluation-coverage/?year=2025")
    assert finance.status_code == 200
    assert "jixiao-coverage" in finance.text and "data-total" in finance.text
    dept = login("dept01").get("/admin/evaluation-coverage/?year=2025").text
    from core.models import OrgUnit

    with app.app_context():
        names = dict(db.session.execute(select(OrgUnit.code, OrgUnit.name)).all())
    assert names["D01"] in dept and names["D02"] not in dept
    assert login("unit0101").get("/admin/evaluation-coverage/").status_code == 403


def test_coverage_counts_finished_evaluations_of_items_with_targets(app):
    from plugins.evaluation.coverage import coverage
    from plugins.evaluation.models import SelfEvaluation

    with app.test_request_context():
        lines, total = coverage(2025)
        finished = db.session.scalar(select(func.count(SelfEvaluation.id)).where(
            SelfEvaluation.finalized_at.is_not(None)))
    assert total.items > total.finished == finished > 0
    assert sum(line.items for line in lines) == total.items


def test_the_dashboard_card_and_the_results_api(login, api_as):
    home = login("finance").get("/admin/")
    assert "自评" in home.text or "Self-evaluations" in home.text
    body = api_as("finance").get("/api/v1/evaluation-results?year=2025&kind=self").get_json()
    assert body["results"] and all(r["grade"] in "ABCD" for r in body["results"])
    own = api_as("dept01").get("/api/v1/evaluation-results?year=2025").get_json()["results"]
    assert 0 < len(own) < len(body["results"])


@pytest.mark.parametrize("path", ["/api/v1/self-evaluations?year=2025"])
def test_lists_are_paginated(api_as, path):
    body = api_as("finance").get(path).get_json()
    assert body["total"] > len(body["items"]) > 0


def test_openapi_lists_the_scoring_endpoint(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "post" in paths["/api/v1/scoring/self-evaluation"]
    assert "/api/v1/self-evaluations/{evaluation_id}" in paths


def test_key_and_re_evaluations_through_the_api(api_as):
    fin = api_as("finance").get("/api/v1/key-evaluations?year=2025").get_json()
    assert fin["total"] == 9  # the demo: 5 projects, 2 policies, 2 departments
    assert {k["object_kind"] for k in fin["items"]} == {"project", "policy", "department"}
    first = fin["items"][0]
    assert sum(Decimal(i["weight"]) for i in first["indicators"]) == 100
    dept = api_as("dept01").get("/api/v1/key-evaluations?year=2025").get_json()
    assert dept["total"] < fin["total"]
    res = api_as("finance").get("/api/v1/re-evaluations?year=2025").get_json()
    assert res["items"] and all(r["accuracy"] is not None for r in res["items"])
    assert api_as("unit0101").get("/api/v1/re-evaluations").status_code == 403


def test_an_evaluation_finalized_after_the_rows_were_read_keeps_its_score(app, target_item):
    from sqlalchemy.orm.exc import StaleDataError

    from core.models import utcnow
    from core.services.bulk import driver_rows
    from core.services.scoring import hook_resolver
    from plugins.evaluation.models import SelfEvaluation
    from plugins.evaluation.year import (
        EV_COLUMNS,
        SCORE_UPDATE,
        RowScorer,
        _score_batch,
        score_year,
    )

    item_id = target_item()
    result = app.test_cli_runner().invoke(
        args=["jixiao", "evaluation", "create", "--year", "2025"])
    assert result.exit_code == 0, result.output
    ev_t = SelfEvaluation.__table__
    with app.app_context():
        ev = evaluation_of(item_id)
        _meet_every_target(ev)
        db.session.commit()
        ev_id = ev.id
        read = driver_rows(db.session, select(*[ev_t.c[k] for k in EV_COLUMNS]).where(
            ev_t.c.id == ev_id))
        db.session.commit()
        ev = db.session.get(SelfEvaluation, ev_id)
        ev.score, ev.grade = Decimal("12.00"), "poor"
        ev.finalized_at = utcnow()  # finalized between the read and the batch's UPDATE
        db.session.commit()
        # the UPDATE refuses it, and the run says so instead of reporting it scored
        with pytest.raises(StaleDataError):
            _score_batch(2025, read, RowScorer(hook_resolver(app)),
                         SCORE_UPDATE.values(scored_at=utcnow(), updated_at=utcnow()))
        db.session.rollback()
        # the bulk path bypasses row scope, so a request may not use it
        with app.test_request_context(), pytest.raises(RuntimeError, match="row scope"):
            score_year(2025)
        # a run that starts after the finalization leaves it alone
        scored, failed = score_year(2025)
        assert scored > 0 and not failed
        db.session.commit()
        db.session.expire_all()
        ev = db.session.get(SelfEvaluation, ev_id)
        assert (ev.score, ev.grade) == (Decimal("12.00"), "poor")


def test_each_scored_figure_is_in_the_audit_log_so_a_later_edit_shows(app, target_item):
    from sqlalchemy import text

    from core.audit import rows_digest
    from core.models import AuditLog
    from core.services.audit_check import logged_rows, verify
    from plugins.evaluation.models import SelfEvaluation

    item_id = target_item()
    runner = app.test_cli_runner()
    assert runner.invoke(args=["jixiao", "evaluation", "create", "--year", "2025"]).exit_code == 0
    with app.app_context():
        ev = evaluation_of(item_id)
        _meet_every_target(ev)
        db.session.commit()
        ev_id, since = ev.id, db.session.scalar(select(func.max(AuditLog.id)))
    result = runner.invoke(args=["jixiao", "evaluation", "score", "--year", "2025"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        entries = {e.object_type: e.after for e in db.session.scalars(select(AuditLog).where(
            AuditLog.id > since, AuditLog.action.in_(["bulk_insert", "bulk_update"])))}
        updated = {r["b_id"]: r for r in logged_rows(entries["self_evaluation"])}
        assert (updated[ev_id]["score"], updated[ev_id]["grade"]) == ("86.00", "good")
        assert entries["self_evaluation"]["params"]["scored_at"]  # the statement's own values
        # the digest is of exactly the rows logged
        assert rows_digest([{k: r[k] for k in ("b_id", "b_version", "score", "grade")}
                            for r in logged_rows(entries["self_evaluation"])]) \
            == entries["self_evaluation"]["sha256"]
        # someone with database access raises the score later: the log still holds 86.00
        db.session.connection().execute(text(
            "UPDATE self_evaluation SET score = 99 WHERE id = :id"), {"id": ev_id})
        db.session.commit()
        stored = db.session.get(SelfEvaluation, ev_id).score
        assert stored == Decimal("99.00") and Decimal(updated[ev_id]["score"]) != stored
        assert verify(db.session).ok  # the log itself is intact
