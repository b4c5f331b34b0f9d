"""Discovery and expectations shared by the scope matrix and the CSRF tests.

Never make a request while an app context is pushed: the request would reuse it
(and its ``g`` and session), so these helpers open a context only around
their own database work.
"""

from __future__ import annotations

from sqlalchemy import select

from core.web.api import PREFIX

#: The demo users of every role, and anonymous (None).
ROLES = ["finance", "dept01", "unit0101", "town01", "expert01", "agency01", "viewer", None]

#: API paths whose model cannot be told from the path (``/things/<int:id>`` → table ``thing``).
ROUTE_MODELS: dict[str, str] = {
    "/api/v1/engagements/<int:engagement_id>/deliverables": "engagement",
    "/api/v1/fees/schedules": "fee_schedule",
    "/api/v1/fees/schedules/<int:schedule_id>": "fee_schedule",
    "/api/v1/fees/quotes": "fee_quote",
    "/api/v1/fees/quotes/<int:quote_id>": "fee_quote",
    "/api/v1/agencies/<int:agency_id>/eligibility": "agency",
}
#: Routes with more than one id, which the matrix cannot fill in: each names the test
#: that checks its permissions and scope instead (a new one must be added here).
COVERED_ELSEWHERE: dict[str, str] = {
    "/api/v1/engagements/<int:engagement_id>/deliverables/<int:attachment_id>":
        "tests/plugins/agencies/test_deliverables.py::"
        "test_deliverables_through_the_api_with_a_personal_token",
}

DOCS_BLUEPRINT = "api-docs"


def may(app, username: str | None, permission: str) -> bool:
    """``core.permissions.can`` for a demo user, outside any request."""
    if username is None or not permission:
        return False
    from core.extensions import db
    from core.models import User
    from core.permissions import can

    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        return can(user, permission)


def api_routes(app):
    """Every URL rule under /api/v1 except the OpenAPI document and its viewers."""
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(PREFIX + "/") and \
                rule.endpoint.split(".")[0] != DOCS_BLUEPRINT:
            yield rule


def route_permission(app, rule, method: str) -> str | None:
    """The permission ``@requires`` put on the view of ``rule`` for ``method``."""
    fn = app.view_functions[rule.endpoint]
    view_class = getattr(fn, "view_class", None)
    if view_class is not None:
        fn = getattr(view_class, method.lower(), None)
    return getattr(fn, "_jixiao_permission", None)


def model_for_path(path: str):
    """The mapped class an API path is about: the last plain segment, as a table name."""
    from core.extensions import db

    if path in ROUTE_MODELS:
        name = ROUTE_MODELS[path]
    else:
        segments = [s for s in path[len(PREFIX):].split("/") if s and not s.startswith("<")]
        if not segments:
            return None
        name = segments[-1].replace("-", "_")
    candidates = [name, name[:-1] if name.endswith("s") else name,
                  name[:-3] + "y" if name.endswith("ies") else name]
    by_table = {m.local_table.name: m.class_ for m in db.Model.registry.mappers}
    for candidate in candidates:
        if candidate in by_table:
            return by_table[candidate]
    return None


def expect_access(response, username: str | None, allowed: bool, where: str,
                  problems: list[str], api: bool = False) -> bool:
    """Record a problem unless the status fits; True when the request was let through."""
    status = response.status_code
    if username is None:
        if api:
            ok = status == 401 and (response.get_json() or {}).get("code") == "unauthorized"
            want = "401 unauthorized"
        else:
            ok = status == 302 and "/login" in (response.location or "")
            want = "a redirect to /login"
    elif not allowed:
        ok = status == 403 and (not api or (response.get_json() or {}).get("code") == "forbidden")
        want = "403"
    else:
        ok = status == 200
        want = "200"
    if not ok:
        problems.append(f"{where} as {username or 'anonymous'}: status {status}, expected {want}")
    return ok and username is not None and allowed
