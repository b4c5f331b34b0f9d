"""The JSON API base: personal tokens, the one error format, pagination, the OpenAPI document.

Tokens are made the way an operator makes them (``flask jixiao token create``)
or in the admin ("My API tokens"), and used as ``Authorization: Bearer``. Bad
input — a missing, revoked or expired token, an over-long page size, malformed
JSON — gets a clear error in the one format and changes nothing.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from marshmallow import Schema, fields, validate
from sqlalchemy import func, select, text

from core.extensions import db
from core.models import ApiToken, AuditLog, BudgetItem, OrgUnit, User, utcnow
from core.web.api import ApiBlueprint, requires
from tests.core import scope_oracle as oracle
from tests.core.web.test_csrf import fingerprint
from tests.support import bearer, csrf_from, do_login, new_token

ITEMS = "/api/v1/budget-items"


# --- helpers ---------------------------------------------------------------------------

def token_row(app, plaintext: str) -> ApiToken:
    from core.tokens import hash_token

    with app.app_context():
        row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(plaintext)))
        db.session.expunge(row)
        return row


def all_ids(client, headers=None) -> tuple[int, set[int]]:
    ids: set[int] = set()
    total = None
    for page in range(1, 100):
        r = client.get(f"{ITEMS}?page={page}&per_page=200", headers=headers or {})
        assert r.status_code == 200, r.text
        body = r.get_json()
        total = body["total"]
        ids |= {item["id"] for item in body["items"]}
        if len(ids) >= total or not body["items"]:
            break
    return total, ids


#: the error schema of the OpenAPI document (loaded once by ``documented_error``)
ERROR_SCHEMA: dict = {}


@pytest.fixture(autouse=True, scope="module")
def documented_error(app):
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    ERROR_SCHEMA.update(spec["components"]["schemas"]["Error"])


def _against(schema: dict, body: dict) -> list[str]:
    """A small JSON-schema check: required keys, no others, and their types."""
    types = {"string": str, "object": dict, "integer": int, "array": list}
    problems = [f"missing {k}" for k in schema.get("required", []) if k not in body]
    for key, value in body.items():
        prop = schema["properties"].get(key)
        if prop is None:
            problems.append(f"undocumented key {key}")
        elif not isinstance(value, types[prop["type"]]):
            problems.append(f"{key} is not {prop['type']}")
    return problems


def error(response, status: int, code: str):
    """Assert an error in the one format, valid against the documented schema; its body."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["code"] == code, body
    assert isinstance(body["message"], str) and body["message"].strip()
    assert not _against(ERROR_SCHEMA, body), (_against(ERROR_SCHEMA, body), body)
    return body


# --- tokens ----------------------------------------------------------------------------

@pytest.mark.parametrize("username", ["unit0101", "dept01", "finance"])
def test_token_sees_exactly_what_its_user_sees(app, login, username):
    plaintext = new_token(app, username, "--name", "scope check")
    assert plaintext.startswith("jx_")
    client = app.test_client()
    total, ids = all_ids(client, bearer(plaintext))
    assert (total, ids) == all_ids(login(username))
    with app.app_context():
        assert ids == set(oracle.visible_rows(BudgetItem, oracle.seer_for(username)))


def test_token_request_makes_no_session(app):
    plaintext = new_token(app, "dept01")
    r = app.test_client().get(ITEMS, headers=bearer(plaintext))
    assert r.status_code == 200
    assert "Set-Cookie" not in r.headers
    assert int(r.headers["X-Total-Count"]) == r.get_json()["total"]
    # the token does not open the admin: it is for the API only
    assert app.test_client().get("/admin/", headers=bearer(plaintext)).status_code == 302


def test_the_token_is_stored_only_as_its_hash(app):
    plaintext = new_token(app, "dept01", "--name", "hash check")
    with app.app_context(), db.engine.connect() as conn:
        for table in ("api_token", "audit_log"):
            dump = " ".join(str(row) for row in conn.execute(text(f"SELECT * FROM {table}")))
            assert plaintext not in dump and plaintext[3:] not in dump, table
    row = token_row(app, plaintext)
    assert row.prefix == plaintext[:10] and row.name == "hash check"


def test_revoked_token_is_refused(app):
    plaintext = new_token(app, "dept01")
    client = app.test_client()
    assert client.get(ITEMS, headers=bearer(plaintext)).status_code == 200
    row = token_row(app, plaintext)
    result = app.test_cli_runner().invoke(args=["jixiao", "token", "revoke", str(row.id)])
    assert result.exit_code == 0 and f"token {row.id} revoked" in result.output
    body = error(client.get(ITEMS, headers=bearer(plaintext)), 401, "invalid_token")
    assert body["details"] == {"reason": "revoked"}
    again = app.test_cli_runner().invoke(args=["jixiao", "token", "revoke", str(row.id)])
    assert again.exit_code == 1 and "already revoked" in again.output


def test_expired_token_is_refused(app):
    from core.services.api_tokens import create_token

    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "unit0101"))
        plaintext, _row = create_token(user, "old", expires_at=utcnow() - timedelta(seconds=1))
        db.session.commit()
    r = app.test_client().get(ITEMS, headers=bearer(plaintext))
    assert error(r, 401, "invalid_token")["details"] == {"reason": "expired"}
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


def test_token_with_expiry_days_works_until_then(app):
    plaintext = new_token(app, "unit0101", "--expires-days", "30")
    row = token_row(app, plaintext)
    assert timedelta(days=29, hours=23) < row.expires_at - utcnow() <= timedelta(days=30)
    assert app.test_client().get(ITEMS, headers=bearer(plaintext)).status_code == 200


@pytest.mark.parametrize(("header", "reason"), [
    ("Bearer jx_not-a-real-token", "unknown"),
    ("Bearer somebody-elses-format", "unknown"),
    ("Basic ZGVwdDAxOkppeGlhb0AyMDI2", "malformed"),
    ("Bearer", "malformed"),
    ("Bearer two words", "malformed"),
    ("", "malformed"),
])
def test_bad_authorization_header_is_refused(app, header, reason):
    r = app.test_client().get(ITEMS, headers={"Authorization": header})
    assert error(r, 401, "invalid_token")["details"] == {"reason": reason}


def test_missing_token_and_session_is_unauthorized(app):
    r = app.test_client().get(ITEMS)
    error(r, 401, "unauthorized")


def test_a_bad_token_never_falls_back_to_the_session(app, login):
    client = login("finance")
    assert client.get(ITEMS).status_code == 200
    r = client.get(ITEMS, headers=bearer("jx_forged"))
    assert error(r, 401, "invalid_token")["details"] == {"reason": "unknown"}


def test_token_of_a_disabled_user_is_refused(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["jixiao", "user", "create", "api_disabled_user", "--role",
                                 "unit_user", "--org", "D01U01", "--generate-password"])
    assert result.exit_code == 0, result.output
    plaintext = new_token(app, "api_disabled_user")
    client = app.test_client()
    assert client.get(ITEMS, headers=bearer(plaintext)).status_code == 200
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "api_disabled_user"))
        user.active = False
        db.session.commit()
    r = client.get(ITEMS, headers=bearer(plaintext))
    assert error(r, 401, "invalid_token")["details"] == {"reason": "user_inactive"}
    refused = runner.invoke(args=["jixiao", "token", "create", "api_disabled_user"])
    assert refused.exit_code == 1 and "disabled" in refused.output
    with app.app_context():
        db.session.delete(db.session.scalar(select(User).where(User.username == "api_disabled_user")))
        db.session.commit()


def test_token_without_the_permission_is_forbidden(app):
    plaintext = new_token(app, "expert01")  # experts may hold tokens but not see budget items
    body = error(app.test_client().get(ITEMS, headers=bearer(plaintext)), 403, "forbidden")
    assert body["details"] == {"permission": "budget_item.view"}


def test_last_use_is_recorded_once_a_minute_without_audit_entries(app):
    plaintext = new_token(app, "dept01")
    row = token_row(app, plaintext)
    assert row.last_used_at is None

    def audit_count():
        with app.app_context():
            return db.session.scalar(select(func.count()).select_from(AuditLog))

    before = audit_count()
    client = app.test_client()
    error(client.get(ITEMS + "?per_page=0", headers=bearer(plaintext)), 422, "validation_error")
    assert token_row(app, plaintext).last_used_at is None  # a refused call is no use
    assert client.get(ITEMS, headers=bearer(plaintext)).status_code == 200
    first = token_row(app, plaintext).last_used_at
    assert first is not None and utcnow() - first < timedelta(minutes=1)
    assert client.get(ITEMS, headers=bearer(plaintext)).status_code == 200
    assert token_row(app, plaintext).last_used_at == first  # not again within the minute
    assert audit_count() == before
    with app.app_context():  # a minute later it is recorded again
        db.session.execute(text("UPDATE api_token SET last_used_at = :t WHERE id = :i"),
                           {"t": first - timedelta(minutes=2), "i": row.id})
        db.session.commit()
    assert client.get(ITEMS, headers=bearer(plaintext)).status_code == 200
    assert token_row(app, plaintext).last_used_at > first - timedelta(minutes=1)


def test_token_list_command(app):
    plaintext = new_token(app, "town01", "--name", "listed")
    row = token_row(app, plaintext)
    result = app.test_cli_runner().invoke(args=["jixiao", "token", "list", "town01"])
    assert result.exit_code == 0
    lines = [line.split("\t") for line in result.output.splitlines()]
    assert [str(row.id), "town01", "listed", plaintext[:10] + "…", "active", "-", "-"] in lines
    assert {line[1] for line in lines} == {"town01"}
    for args in (["token", "create", "nobody_here"], ["token", "revoke", "999999"],
                 ["token", "list", "nobody_here"]):
        refused = app.test_cli_runner().invoke(args=["jixiao", *args])
        assert refused.exit_code == 1 and "no " in refused.output, args
    bad_days = app.test_cli_runner().invoke(
        args=["jixiao", "token", "create", "town01", "--expires-days", "0"])
    assert bad_days.exit_code == 2 and "--expires-days" in bad_days.output


# --- a probe blueprint with unsafe methods ---------------------------------------------

class RenameArgs(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))


class MoveArgs(Schema):
    org_unit_id = fields.Integer(required=True)


@pytest.fixture(scope="module")
def probe(make_app, app):
    """An app with routes that write (rename, move) and one that fails."""
    probe_app = make_app(PROPAGATE_EXCEPTIONS=False)
    blp = ApiBlueprint("api_probe", __name__, url_prefix="/api/v1/api-probe")

    def item(item_id: int) -> BudgetItem:
        found = db.session.scalar(select(BudgetItem).where(BudgetItem.id == item_id))
        if found is None:
            from flask_smorest import abort

            abort(404)
        return found

    @blp.route("/items/<int:item_id>/rename", methods=["POST"])
    @blp.arguments(RenameArgs)
    @requires("budget_item.edit")
    def rename(args, item_id: int):
        item(item_id).name = args["name"]
        db.session.commit()
        return {"id": item_id, "name": args["name"]}

    @blp.route("/items/<int:item_id>/move", methods=["POST"])
    @blp.arguments(MoveArgs)
    @requires("budget_item.edit")
    def move(args, item_id: int):
        item(item_id).org_unit_id = args["org_unit_id"]
        db.session.commit()
        return {"id": item_id}

    @blp.route("/boom")
    @requires("budget_item.view")
    def boom():
        raise RuntimeError("an unexpected failure")

    probe_app.extensions["jixiao_api"].register_blueprint(blp)
    return probe_app


def _item_of(app, org_code: str) -> tuple[int, str]:
    with app.app_context():
        row = db.session.execute(
            select(BudgetItem.id, BudgetItem.name).join(OrgUnit)
            .where(OrgUnit.code == org_code).order_by(BudgetItem.id)).first()
        return row.id, row.name


def _restore_name(app, item_id: int, name: str) -> None:
    with app.app_context():
        db.session.get(BudgetItem, item_id).name = name
        db.session.commit()


def test_token_needs_no_csrf_token_on_unsafe_methods(app, probe):
    item_id, old_name = _item_of(app, "D01U01")
    plaintext = new_token(app, "dept01")
    try:
        r = probe.test_client().post(f"/api/v1/api-probe/items/{item_id}/rename",
                                     json={"name": "renamed with a token"},
                                     headers=bearer(plaintext))
        assert r.status_code == 200, r.text
        assert "Set-Cookie" not in r.headers
        with app.app_context():
            assert db.session.get(BudgetItem, item_id).name == "renamed with a token"
            entry = db.session.scalar(select(AuditLog).where(
                AuditLog.object_type == "budget_item", AuditLog.object_id == str(item_id))
                .order_by(AuditLog.id.desc()))
            assert entry.username == "dept01"  # the audit log names the token's user
    finally:
        _restore_name(app, item_id, old_name)


def test_session_still_needs_the_csrf_token(app, probe):
    item_id, old_name = _item_of(app, "D01U01")
    client = probe.test_client()
    assert do_login(client, "dept01").status_code == 302
    before = fingerprint(app)
    r = client.post(f"/api/v1/api-probe/items/{item_id}/rename", json={"name": "no csrf"})
    error(r, 400, "csrf")
    assert fingerprint(app) == before
    try:
        r = client.post(f"/api/v1/api-probe/items/{item_id}/rename", json={"name": "with csrf"},
                        headers={"X-CSRFToken": csrf_from(client.get("/admin/").text)})
        assert r.status_code == 200
    finally:
        _restore_name(app, item_id, old_name)


@pytest.mark.parametrize("auth", ["token", "session"])
@pytest.mark.parametrize("body", ['{"name": "x",}', '{"name": ', "name=x", "\u00ff"])
def test_malformed_json_is_refused_and_changes_nothing(app, probe, auth, body):
    item_id, _name = _item_of(app, "D01U01")
    client = probe.test_client()
    headers = {"Content-Type": "application/json"}
    if auth == "token":
        headers |= bearer(new_token(app, "dept01"))
    else:
        assert do_login(client, "dept01").status_code == 302
        headers["X-CSRFToken"] = csrf_from(client.get("/admin/").text)
    before = fingerprint(app)
    r = client.post(f"/api/v1/api-probe/items/{item_id}/rename", data=body.encode("latin-1"),
                    headers=headers)
    error(r, 400, "bad_json")
    assert fingerprint(app) == before


def test_invalid_json_body_names_the_field(app, probe):
    item_id, _name = _item_of(app, "D01U01")
    plaintext = new_token(app, "dept01")
    before = fingerprint(app)
    r = probe.test_client().post(f"/api/v1/api-probe/items/{item_id}/rename",
                                 json={"name": "x" * 201}, headers=bearer(plaintext))
    body = error(r, 422, "validation_error")
    assert list(body["details"]["json"]) == ["name"] and "name" in body["message"]
    r = probe.test_client().post(f"/api/v1/api-probe/items/{item_id}/rename", json={},
                                 headers=bearer(plaintext))
    assert list(error(r, 422, "validation_error")["details"]["json"]) == ["name"]
    assert fingerprint(app) == before


def test_bad_token_on_an_unsafe_method_changes_nothing(app, probe):
    item_id, _name = _item_of(app, "D01U01")
    revoked = new_token(app, "dept01")
    app.test_cli_runner().invoke(args=["jixiao", "token", "revoke",
                                       str(token_row(app, revoked).id)])
    before = fingerprint(app)
    for headers, code in ((bearer(revoked), "invalid_token"), (bearer("jx_x"), "invalid_token"),
                          ({}, "unauthorized")):
        r = probe.test_client().post(f"/api/v1/api-probe/items/{item_id}/rename",
                                     json={"name": "should not be saved"}, headers=headers)
        error(r, 401, code)
    assert fingerprint(app) == before


def test_oversized_body_is_refused_and_changes_nothing(app, probe, monkeypatch):
    item_id, _name = _item_of(app, "D01U01")
    monkeypatch.setitem(probe.config, "MAX_CONTENT_LENGTH", 1000)
    headers = bearer(new_token(app, "dept01"))
    before = fingerprint(app)
    r = probe.test_client().post(f"/api/v1/api-probe/items/{item_id}/rename",
                                 json={"name": "x" * 2000}, headers=headers)
    error(r, 413, "too_large")
    assert fingerprint(app) == before


def test_write_outside_scope_is_forbidden_and_rolled_back(app, probe):
    item_id, _name = _item_of(app, "D01U01")
    with app.app_context():
        other = db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == "D02U01"))
    plaintext = new_token(app, "dept01")
    before = fingerprint(app)
    r = probe.test_client().post(f"/api/v1/api-probe/items/{item_id}/move",
                                 json={"org_unit_id": other}, headers=bearer(plaintext))
    assert error(r, 403, "forbidden")["details"] == {"reason": "scope"}
    assert fingerprint(app) == before


def test_unexpected_failure_is_a_server_error_in_the_format(app, probe):
    r = probe.test_client().get("/api/v1/api-probe/boom",
                                headers=bearer(new_token(app, "dept01")))
    error(r, 500, "server_error")
    assert "unexpected failure" not in r.text  # no internals leak


# --- errors, pagination ------------------------------------------------------------------

@pytest.mark.parametrize(("query", "field"), [
    ("per_page=201", "per_page"), ("per_page=0", "per_page"), ("per_page=abc", "per_page"),
    ("page=0", "page"), ("page=99999999999999999999", "page"),
])
def test_bad_page_arguments_name_the_field(login, query, field):
    r = login("dept01").get(f"{ITEMS}?{query}")
    body = error(r, 422, "validation_error")
    assert list(body["details"]["query"]) == [field]
    assert field in body["message"]


def test_page_size_limit_comes_from_the_settings(make_app, app):
    small = make_app(API_MAX_PAGE_SIZE=10)
    client = small.test_client()
    assert do_login(client, "finance").status_code == 302
    r = client.get(f"{ITEMS}?per_page=11")
    assert "10" in error(r, 422, "validation_error")["details"]["query"]["per_page"][0]
    assert len(client.get(f"{ITEMS}?per_page=10").get_json()["items"]) == 10


def test_pages_cover_every_row_once(login):
    client = login("dept01")
    first = client.get(f"{ITEMS}?per_page=7").get_json()
    assert (first["page"], first["per_page"], len(first["items"])) == (1, 7, 7)
    seen: list[int] = []
    for page in range(1, first["total"] // 7 + 2):
        body = client.get(f"{ITEMS}?per_page=7&page={page}").get_json()
        assert body["total"] == first["total"]
        seen += [item["id"] for item in body["items"]]
    assert len(seen) == len(set(seen)) == first["total"]
    beyond = client.get(f"{ITEMS}?per_page=7&page={first['total'] + 1}").get_json()
    assert beyond["items"] == [] and beyond["total"] == first["total"]


def test_unknown_route_and_wrong_method_in_the_format(login):
    client = login("dept01")
    for path in ("/api/v1/no-such-thing", "/api/v1/budget-items/999999999", "/api/v1"):
        error(client.get(path), 404, "not_found")
    r = client.delete(ITEMS)
    assert error(r, 405, "method_not_allowed")["details"]["allowed"] == ["GET", "HEAD",
                                                                          "OPTIONS"]
    assert r.headers["Allow"] == "GET, HEAD, OPTIONS"


def test_errors_outside_the_api_stay_html_pages(login):
    r = login("dept01").get("/admin/plugins/")
    assert r.status_code == 403 and r.mimetype == "text/html"
    r = login("dept01").get("/no-such-page")
    assert r.status_code == 404 and r.mimetype == "text/html"


def test_error_messages_follow_the_language(app, login):
    client = login("dept01")
    english = client.get("/lang/en")
    assert english.status_code == 302
    assert error(client.get("/api/v1/nope"), 404, "not_found")["message"] == "Not found."
    client.get("/lang/zh_Hans_CN")
    assert error(client.get("/api/v1/nope"), 404, "not_found")["message"] != "Not found."


# --- the OpenAPI document ----------------------------------------------------------------

@pytest.fixture(scope="module")
def spec(app):
    r = app.test_client().get("/api/v1/openapi.json")
    assert r.status_code == 200
    return r.get_json()


def test_openapi_lists_the_routes_and_the_bearer_scheme(spec, app):
    assert {"/api/v1/budget-items", "/api/v1/budget-items/{item_id}",
            "/api/v1/org-units"} <= set(spec["paths"])
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {**schemes["bearerAuth"], "type": "http", "scheme": "bearer"}
    assert {"bearerAuth": []} in spec["security"]
    operation = spec["paths"]["/api/v1/budget-items"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"page", "per_page"}
    for status in ("401", "403", "422", "default"):
        assert status in operation["responses"], status
    page = spec["components"]["schemas"]["BudgetItemPage"]["properties"]
    assert set(page) == {"items", "total", "page", "per_page"}


def test_the_error_schema_is_documented(spec):
    schema = spec["components"]["schemas"]["Error"]
    assert set(schema["required"]) == {"code", "message", "details"}
    assert {k: v["type"] for k, v in schema["properties"].items()} == {
        "code": "string", "message": "string", "details": "object"}
    for name in ("UNAUTHORIZED", "FORBIDDEN", "UNPROCESSABLE_ENTITY",
                 "DEFAULT_ERROR"):
        ref = spec["components"]["responses"][name]["content"]["application/json"]["schema"]
        assert ref == {"$ref": "#/components/schemas/Error"}, name


def test_no_two_plugins_document_a_schema_under_the_same_name(make_app):
    """apispec renames a clash (ScoreInput → ScoreInput1): clients would see unstable names."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        make_app()
    clashes = [str(w.message) for w in caught if "Multiple schemas resolved" in str(w.message)]
    assert clashes == []
