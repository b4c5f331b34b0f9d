"""What schemathesis found in the API, one focused test per defect (see test_schemathesis.py).

- a number beyond the database's INTEGER range in a path, query or body reached
  the driver: a server error (SQLite ``OverflowError``, PostgreSQL
  ``NumericValueOutOfRange``) instead of 404 / 422;
- times were written without their UTC offset (no RFC 3339 ``date-time``);
- exact decimals written as strings were documented as numbers;
- fields that are empty until a later step (preassessment final time, reviewing
  department, an expert's opinion and submission time) were documented as never null;
- ``/evaluation-results`` documented no 200 answer at all.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import schemathesis
from sqlalchemy import select

from core.db_int import INT_MAX
from core.extensions import db
from tests.fuzz.support import bearer, new_token

BIG = [INT_MAX + 1, 2**63, 2**80]


@pytest.fixture(scope="module")
def tokens(app):
    return {name: new_token(app, name) for name in ("finance", "expert01")}


@pytest.fixture(scope="module")
def api(app):
    """The OpenAPI document as schemathesis reads it, to check answers against."""
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text[:500]
    body = response.get_json()
    assert body["code"] == code and body["message"] and isinstance(body["details"], dict)
    return body


@pytest.mark.parametrize("number", BIG)
@pytest.mark.parametrize("path", ["/api/v1/budget-items/{n}", "/api/v1/work-logs/{n}",
                                  "/api/v1/engagements/{n}/deliverables",
                                  "/api/v1/self-evaluations/{n}/workflow"])
def test_an_id_beyond_the_database_range_is_not_found(client, tokens, path, number):
    method = client.post if path.endswith("workflow") else client.get
    response = method(path.format(n=number), headers=bearer(tokens["finance"]),
                      json={"action": "submit"} if path.endswith("workflow") else None)
    _error(response, 404, "not_found")


def test_the_document_gives_path_ids_their_range(api):
    for path in ("/api/v1/budget-items/{item_id}", "/api/v1/work-logs/{log_id}"):
        params = api.raw_schema["paths"][path]["parameters"]
        assert params[0]["schema"] == {"type": "integer", "minimum": 0, "maximum": INT_MAX}


@pytest.mark.parametrize("number", BIG)
def test_an_integer_argument_beyond_the_range_is_a_validation_error(client, tokens, number):
    finance = bearer(tokens["finance"])
    body = _error(client.get(f"/api/v1/target-sheets?item_id={number}", headers=finance),
                  422, "validation_error")
    assert "item_id" in body["details"]["query"]
    body = _error(client.post("/api/v1/agency-assessments", json={"engagement_id": number},
                              headers=finance), 422, "validation_error")
    assert "engagement_id" in body["details"]["json"]
    body = _error(client.post("/api/v1/target-sheets", headers=finance, json={
        "budget_item_id": number, "goal": "x", "indicators": []}), 422, "validation_error")
    assert "budget_item_id" in body["details"]["json"]


def test_the_largest_id_in_range_is_simply_not_found(client, tokens):
    finance = bearer(tokens["finance"])
    _error(client.get(f"/api/v1/budget-items/{INT_MAX}", headers=finance), 404, "not_found")
    response = client.get(f"/api/v1/target-sheets?item_id={INT_MAX}", headers=finance)
    assert response.status_code == 200 and response.get_json()["items"] == []


def test_times_carry_their_utc_offset(app, client, tokens, api):
    from plugins.agencies.models import WorkLog

    response = client.get("/api/v1/work-logs?per_page=200", headers=bearer(tokens["finance"]))
    api["/api/v1/work-logs"]["GET"].validate_response(response)
    items = response.get_json()["items"]
    assert items, "the demo data has work logs"
    with app.app_context():
        stored = dict(db.session.execute(select(WorkLog.id, WorkLog.created_at)).all())
    for item in items:
        shown = datetime.fromisoformat(item["created_at"])
        assert shown.utcoffset() is not None and shown.utcoffset().total_seconds() == 0
        assert shown == stored[item["id"]].replace(tzinfo=UTC)


def test_decimal_strings_are_documented_as_strings(client, tokens, api):
    amount = api.raw_schema["components"]["schemas"]["BudgetItem"]["properties"]["amount"]
    assert amount["type"] == "string" and amount["format"] == "decimal"
    response = client.get("/api/v1/budget-items?per_page=5", headers=bearer(tokens["finance"]))
    api["/api/v1/budget-items"]["GET"].validate_response(response)
    assert all(re.fullmatch(amount["pattern"], i["amount"]) for i in response.get_json()["items"])
    record = api.raw_schema["components"]["schemas"]["Record"]["properties"]["execution_rate"]
    assert record["type"] == "string" and record.get("nullable") is True


@pytest.mark.parametrize(("user", "path"), [
    ("finance", "/api/v1/preassessments"), ("expert01", "/api/v1/preassessment-reviews"),
    ("finance", "/api/v1/evaluation-results"), ("finance", "/api/v1/key-evaluations"),
    ("finance", "/api/v1/agency-appeals"), ("finance", "/api/v1/publications"),
    ("finance", "/api/v1/monitoring-records"),
])
def test_list_answers_match_the_document(client, tokens, api, user, path):
    """Rows with fields still empty (not final, not yet reviewed) match the document too."""
    for page in range(1, 4):
        response = client.get(f"{path}?page={page}&per_page=200",
                              headers=bearer(tokens[user]))
        assert response.status_code == 200, response.text[:300]
        api[path]["GET"].validate_response(response)
        if len(response.get_json().get("items", [])) < 200:
            break


def test_evaluation_results_are_documented(api):
    responses = api.raw_schema["paths"]["/api/v1/evaluation-results"]["get"]["responses"]
    assert "200" in responses
