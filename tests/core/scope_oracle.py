"""What a user may see, computed with plain SQL from the org tree, independently of core.scope.

The rule (docs/architecture.md, "Row scope: one place"): a user sees the rows of
their org unit's subtree (``org_unit.path`` prefix); the root finance bureau's users see
everything; users without an org unit see no org-owned rows. Users are also
visible to themselves. For scoped models that have another rule (audit log,
notifications, plugin models), the model's own ``scope_criteria`` is asked with
a principal built here, and the query runs outside any request, so the
``core.scope`` listener never takes part.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select, text

from core.extensions import db
from core.models import User
from core.models.base import OrgScoped
from core.plugins import hooks
from core.scope import OUTSIDE_ROLES

#: The column that names a row in pages and exports, for the core's tables.
NATURAL_KEYS = {"budget_item": "code", "org_unit": "code", "user_account": "username"}


@dataclass(frozen=True)
class Seer:
    """A demo user as the oracle sees them (None username: anonymous)."""

    username: str | None
    user_id: int | None = None
    role: str = ""
    org_path: str | None = None
    everything: bool = False
    agency_id: int | None = None

    def principal(self, org_ids: frozenset[int]):
        from dataclasses import fields

        from core.scope import Principal

        extra = {"agency_id": self.agency_id} if "agency_id" in {
            f.name for f in fields(Principal)} else {}
        return Principal(self.user_id, self.role, org_ids, self.everything, **extra)


def seer_for(username: str | None) -> Seer:
    if username is None:
        return Seer(None)
    agency = "u.agency_id" if "agency_id" in db.metadata.tables["user_account"].c else "NULL"
    with db.engine.connect() as conn:
        row = conn.execute(text(
            f"SELECT u.id, r.name, o.path, o.parent_id, o.kind, {agency} AS agency_id "  # noqa: S608
            "FROM user_account u JOIN role r ON r.id = u.role_id "
            "LEFT JOIN org_unit o ON o.id = u.org_unit_id WHERE u.username = :u"),
            {"u": username}).one()
    everything = row.path is not None and row.parent_id is None and \
        row.kind.lower() == "finance_bureau"
    agency_id = row.agency_id
    if agency_id is None and row.name in OUTSIDE_ROLES:  # as the core asks: the plugins' answer
        agency_id = hooks().principal_agency(user=db.session.get(User, row.id))
    return Seer(username, row.id, row.name, row.path, everything, agency_id)


def _org_ids(conn, seer: Seer) -> frozenset[int]:
    if seer.org_path is None:
        return frozenset()
    return frozenset(conn.execute(text("SELECT id FROM org_unit WHERE path LIKE :p"),
                                  {"p": seer.org_path + "%"}).scalars())


def is_scoped(model) -> bool:
    return hasattr(model, "scope_criteria")


def _rows(conn, model, where: str = "1=1", join: str = "", **params) -> dict:
    table = model.__table__
    pk = sa_inspect(model).primary_key[0].name
    key = NATURAL_KEYS.get(table.name, pk)
    sql = f"SELECT t.{pk}, t.{key} FROM {table.name} t {join} WHERE {where}"  # noqa: S608
    return {r[0]: (r[1] if key != pk else None) for r in conn.execute(text(sql), params)}


def all_rows(model) -> dict:
    """{primary key: natural key or None} of every row of ``model``."""
    with db.engine.connect() as conn:
        return _rows(conn, model)


def visible_rows(model, seer: Seer) -> dict:
    """{primary key: natural key or None} of the rows of ``model`` that ``seer`` may see."""
    if seer.username is None:
        return {}
    table = model.__table__
    with db.engine.connect() as conn:
        if not is_scoped(model):
            return _rows(conn, model)
        prefix = (seer.org_path or "#no-org#") + "%"
        if table.name == "org_unit":
            return _rows(conn, model) if seer.everything else _rows(
                conn, model, "t.path LIKE :p", p=prefix)
        if table.name == "user_account":
            return _rows(conn, model) if seer.everything else _rows(
                conn, model, "o.path LIKE :p OR t.id = :me",
                "LEFT JOIN org_unit o ON o.id = t.org_unit_id", p=prefix, me=seer.user_id)
        default_rule = getattr(model.scope_criteria, "__func__", None) is \
            OrgScoped.scope_criteria.__func__
        if default_rule:
            return _rows(conn, model) if seer.everything else _rows(
                conn, model, "o.path LIKE :p", "JOIN org_unit o ON o.id = t.org_unit_id",
                p=prefix)
        pk = sa_inspect(model).primary_key[0].name
        key = NATURAL_KEYS.get(table.name, pk)
        stmt = select(table.c[pk], table.c[key])
        criteria = model.scope_criteria(seer.principal(_org_ids(conn, seer)))
        if criteria is not None:
            stmt = stmt.where(criteria)
        return {r[0]: (r[1] if key != pk else None) for r in conn.execute(stmt)}
