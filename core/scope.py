"""Row scope: the ONE place that decides which rows a user may see and change.

Every ORM ``SELECT`` issued while a request has a logged-in user gets, for each
scoped model it touches, the criteria returned by ``Model.scope_criteria(principal)``
(``with_loader_criteria``; see SQLAlchemy's "global filters" recipe). Admin lists
and counts, edit/details by id, relation dropdowns, ajax lookups, exports,
lazy loads and the API all go through the ORM, so none can leak a row.
Writes are checked in ``after_flush`` (inside the flush's transaction, so a
refusal rolls it back), when foreign keys set through relationships are known:
a scoped row may only be created in, moved into or deleted from the user's scope.

Core statements (``connection.execute``) are not reached by the loader criteria: code
that reads scoped rows with one adds ``*visible(Model)`` to its WHERE clause, and code
that writes a row with one calls ``check_writes([obj])`` first (``core.services.bulk.insert_row``
does) — the same rules, from the same ``scope_criteria``/``scope_allows``.

A model is scoped when it has a ``scope_criteria`` classmethod (``OrgScoped``
gives one based on ``org_unit_id``). Code that must see everything (login,
audit, jobs, CLI) runs outside a request or uses ``unscoped()``.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import g, has_request_context
from flask_babel import lazy_gettext as _l
from flask_login import user_logged_in, user_logged_out
from sqlalchemy import event, select
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

SKIP = "jixiao_unscoped"


class ScopeError(PermissionError):
    """A write outside the user's scope."""


@dataclass(frozen=True)
class Principal:
    """Who is asking: the user, their role and the org units they may see."""

    user_id: int | None
    role: str
    org_ids: frozenset[int]
    sees_everything: bool
    agency_id: int | None = None

    def covers(self, org_unit_id: int | None) -> bool:
        """Is ``org_unit_id`` inside this principal's org scope?"""
        return self.sees_everything or org_unit_id in self.org_ids


#: roles of people outside the district's org tree: never an org scope
OUTSIDE_ROLES = frozenset({"expert", "agency_user"})


def principal_for(user: Any) -> Principal:
    """Compute a user's scope: their org unit's subtree (the bureau's subtree is all)."""
    from core.models import OrgKind, OrgUnit

    org = user.org_unit
    if org is None or user.role_name in OUTSIDE_ROLES:
        # experts and agency users are outside the org tree, even if given an org unit
        return Principal(user.id, user.role_name, frozenset(), False, _agency_of(user))
    if org.kind == OrgKind.FINANCE_BUREAU and org.parent_id is None:
        return Principal(user.id, user.role_name, frozenset(), True)
    with unscoped_session() as session:
        ids = session.scalars(
            select(OrgUnit.id).where(OrgUnit.path.startswith(org.path))).all()
    return Principal(user.id, user.role_name, frozenset(ids), False)


_AGENCY = "jixiao_principal_agency"


def remember_agency(user_id: int, agency_id: int | None) -> None:
    """Keep the answer of ``jixiao_principal_agency`` for ``user_id``, read by the statement
    that loaded the user (``jixiao_principal_agency_column``), for this request."""
    if has_request_context():
        setattr(g, _AGENCY, (user_id, agency_id))


def _agency_of(user: Any) -> int | None:
    """The agency of a user without an org unit, as the plugins answer it."""
    from core.plugins import hooks

    known = g.get(_AGENCY) if has_request_context() else None
    if known is not None and known[0] == user.id:
        return known[1]
    return hooks().principal_agency(user=user)


def current_principal() -> Principal | None:
    """The principal of the current request, cached on ``g``; None when nobody is logged in."""
    if not has_request_context():
        return None
    if "jixiao_principal" in g:
        return g.jixiao_principal
    if g.get("jixiao_loading_user"):
        return None
    from flask_login import current_user

    principal = None
    user = current_user._get_current_object()  # once, not through the proxy each time
    if user and user.is_authenticated:
        principal = principal_for(user)
    g.jixiao_principal = principal
    return principal


def reset_principal(*_args: Any, **_kwargs: Any) -> None:
    if has_request_context():
        g.pop("jixiao_principal", None)


# A login or logout changes who is asking for the rest of the request, too.
user_logged_in.connect(reset_principal)
user_logged_out.connect(reset_principal)


@contextmanager
def unscoped_session():
    """Run queries without scope (login, audit, scope computation itself)."""
    from core.extensions import db

    if has_request_context():
        prev = g.get("jixiao_unscoped", False)
        g.jixiao_unscoped = True
        try:
            yield db.session
        finally:
            g.jixiao_unscoped = prev
    else:
        yield db.session


unscoped = unscoped_session


def _active_principal(state_options: dict[str, Any]) -> Principal | None:
    if state_options.get(SKIP) or not has_request_context() or g.get("jixiao_unscoped"):
        return None
    return current_principal()


def scoped_models(registry) -> list[type]:
    """Every mapped class with a ``scope_criteria`` rule."""
    return [m.class_ for m in registry.mappers if hasattr(m.class_, "scope_criteria")]


_cache: dict[tuple[int, int], tuple[type, ...]] = {}


def _scoped_classes(state: ORMExecuteState) -> tuple[type, ...]:
    from core.extensions import db

    registry = db.Model.registry
    key = id(registry), len(registry.mappers)
    if key not in _cache:
        _cache.clear()
        _cache[key] = tuple(scoped_models(registry))
    return _cache[key]


#: loader criteria by (principal, classes); a principal is a frozen value, so two
#: requests of the same user with the same scope share them (bounded: cleared when full)
_options: dict[tuple[Principal, tuple[type, ...]], list[Any]] = {}
OPTIONS_CACHE_SIZE = 1024


def _scope_options(principal: Principal, classes: tuple[type, ...]) -> list[Any]:
    """The loader criteria of ``principal``, built once per principal value and model set.

    A ``scope_criteria`` rule must depend only on the principal (and on SQL it
    returns, which runs with each query), never on other state of the moment.
    """
    key = principal, classes
    options = _options.get(key)
    if options is not None:
        return options
    options = []
    for cls in classes:
        criteria = cls.scope_criteria(principal)
        if criteria is not None:
            options.append(with_loader_criteria(cls, criteria, include_aliases=True))
    if len(_options) >= OPTIONS_CACHE_SIZE:
        _options.clear()
    _options[key] = options
    return options


#: the criteria of one model for one principal, for Core statements (bounded like ``_options``)
_criteria: dict[tuple[Principal, type], tuple[Any, ...]] = {}
_NO_CRITERIA: tuple[Any, ...] = ()


def visible(model: type) -> tuple[Any, ...]:
    """The WHERE criteria that keep a Core statement on ``model`` within the current
    principal's scope, to unpack into ``.where(*visible(Model))``; empty when nothing
    limits it (no logged-in user, ``unscoped()``, or a principal that sees every row).

    The same tuple object is returned for the same principal and model, so a caller
    may keep the statement it built with it (see ``scoped_statement``)."""
    principal = _active_principal({})
    if principal is None or not hasattr(model, "scope_criteria"):
        return _NO_CRITERIA
    key = principal, model
    criteria = _criteria.get(key)
    if criteria is None:
        rule = model.scope_criteria(principal)
        criteria = _NO_CRITERIA if rule is None else (rule,)
        if len(_criteria) >= OPTIONS_CACHE_SIZE:
            _criteria.clear()
            _statements.clear()
        _criteria[key] = criteria
    return criteria


_statements: dict[tuple[Any, int], tuple[tuple[Any, ...], Any]] = {}


def scoped_statement(build: Any, model: type) -> Any:
    """``build(criteria)`` for the current principal's ``visible(model)``, built once per
    principal and kept (a statement built once is compiled once by SQLAlchemy's cache)."""
    criteria = visible(model)
    key = build, id(criteria)
    held = _statements.get(key)
    if held is not None and held[0] is criteria:
        return held[1]
    statement = build(criteria)
    _statements[key] = criteria, statement
    return statement


def check_writes(objects: list[Any], model: type | None = None) -> None:
    """Refuse (``ScopeError``) a row the current principal may not write: what the flush
    checks, for rows written by a Core statement. ``objects`` are instances, or rows of
    ``model`` (anything with its column attributes, e.g. a row read back by RETURNING)."""
    _refuse_out_of_scope(_active_principal({}), objects, model)


@event.listens_for(Session, "do_orm_execute")
def _add_scope(state: ORMExecuteState) -> None:
    if not state.is_select or state.is_column_load:
        return
    principal = _active_principal(state.execution_options)
    if principal is None:
        return
    options = _scope_options(principal, _scoped_classes(state))
    if options:
        state.statement = state.statement.options(*options)


def _refuse_out_of_scope(principal: Principal | None, objects: list[Any],
                         model: type | None = None) -> None:
    if principal is None or principal.sees_everything:
        return
    for obj in objects:
        cls = model or type(obj)
        check = getattr(cls, "scope_allows", None)
        if check is None and hasattr(cls, "org_unit_id") and hasattr(cls, "scope_criteria") \
                and "org_unit_id" in cls.__table__.c:
            org_id = obj.org_unit_id
            if org_id is not None and not principal.covers(org_id):
                raise ScopeError(_l("You may not put this record under an org unit "
                                    "outside your own."))
        elif check is not None and not check(obj, principal):
            raise ScopeError(_l("You may not change this record."))


@event.listens_for(Session, "before_flush")
def _check_deletes(session: Session, flush_context: Any, instances: Any) -> None:
    # before the rows are gone, so that expired attributes can still be loaded
    _refuse_out_of_scope(_active_principal({}), list(session.deleted))


@event.listens_for(Session, "after_flush")
def _check_writes(session: Session, flush_context: Any) -> None:
    # after the flush wrote them (same transaction: raising rolls it back), so that
    # foreign keys set through relationships (``item.org_unit = unit``) are known
    _refuse_out_of_scope(_active_principal({}), list(session.new) + list(session.dirty))
