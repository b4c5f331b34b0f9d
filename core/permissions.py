"""Permissions: declared by plugins (``jixiao_permissions``), granted to roles in the DB.

A permission is a dotted name such as ``budget_item.edit``. Each plugin declares its
permissions with the roles that get them by default (the role tuples below);
``sync_permissions`` writes missing default grants at ``init-db``/``seed-demo``, then the
finance bureau can change them in the admin. ``can(user, name)`` is the single check used everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import g, has_request_context
from sqlalchemy import func, select

from core.extensions import db
from core.models.user import Role, RoleName, RolePermission
from core.plugins import hooks

ALL_ROLES = tuple(r.value for r in RoleName)
FINANCE = ("finance_admin",)
ADMINS = ("finance_admin", "dept_admin")  # the finance bureau and the departments
STAFF = (*ADMINS, "unit_user")
BUDGET_UNITS = ("dept_admin", "unit_user")  # the departments and their units: who report


@dataclass(frozen=True)
class Permission:
    name: str
    label: str = ""
    roles: tuple[str, ...] = field(default_factory=tuple)


def crud(resource: str, label: str, *, view: tuple[str, ...], edit: tuple[str, ...],
         create: tuple[str, ...] | None = None, delete: tuple[str, ...] | None = None,
         ) -> list[Permission]:
    """The four usual permissions of a resource: view, create, edit, delete."""
    return [
        Permission(f"{resource}.view", f"{label}: view", view),
        Permission(f"{resource}.create", f"{label}: create", edit if create is None else create),
        Permission(f"{resource}.edit", f"{label}: edit", edit),
        Permission(f"{resource}.delete", f"{label}: delete", edit if delete is None else delete),
    ]


def declared() -> dict[str, Permission]:
    """Every permission declared by the registered plugins."""
    return {p.name: p for p in hooks().permissions()}


def sync_permissions(session) -> int:
    """Create the roles and add default grants that are missing. Returns grants added."""
    roles = {r.name: r for r in session.scalars(select(Role))}
    for name in ALL_ROLES:
        if name not in roles:
            roles[name] = Role(name=name)
            session.add(roles[name])
    session.flush()
    existing = {(rp.role_id, rp.permission) for rp in session.scalars(select(RolePermission))}
    added = 0
    for perm in declared().values():
        for role_name in perm.roles:
            role = roles.get(role_name)
            if role is not None and (role.id, perm.name) not in existing:
                session.add(RolePermission(role_id=role.id, permission=perm.name))
                existing.add((role.id, perm.name))
                added += 1
    session.flush()
    return added


_SEP = ","  # between permission names in ``grants_of``'s string (dotted identifiers)


def _request_cache() -> dict[int, frozenset[str]]:
    return g.setdefault("jixiao_grants", {}) if has_request_context() else {}


def granted(role_id: int) -> frozenset[str]:
    """The permissions of a role (cached for the request)."""
    cache = _request_cache()
    if role_id not in cache:
        cache[role_id] = frozenset(db.session.scalars(
            select(RolePermission.permission).where(RolePermission.role_id == role_id)
            .execution_options(jixiao_unscoped=True)))
    return cache[role_id]


def grants_of(role_id_column):
    """A scalar subquery: the permissions of the role in ``role_id_column``, as one string.

    Put it in the statement that loads a user, then pass the value to ``remember`` so
    the request needs no statement of its own for them (read fresh every request:
    nothing to invalidate when the finance bureau changes a grant).
    """
    return (select(func.aggregate_strings(RolePermission.permission, _SEP))
            .where(RolePermission.role_id == role_id_column).scalar_subquery())


def remember(role_id: int, joined: str | None) -> None:
    """Keep the permissions read by ``grants_of`` for ``granted`` in this request."""
    _request_cache()[role_id] = frozenset(joined.split(_SEP)) if joined else frozenset()


def can(user, permission: str) -> bool:
    """May ``user`` do ``permission``? Anonymous users and inactive accounts may not."""
    user = getattr(user, "_get_current_object", lambda: user)()  # ``current_user``: once
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return permission in granted(user.role_id)
