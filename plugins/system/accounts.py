"""Creating user accounts outside the admin (the ``flask jixiao user create`` command).

``create_user`` checks everything first and writes nothing when any check
fails: the username (letters, digits, ``. _ - @``; unique), the role (one that
exists), the org unit (one that exists, and of a kind that fits the role:
finance staff belong to the finance bureau, department administrators to a
department or town, unit users to a unit; experts and agency users belong to
no org unit) and the password (at least ``PASSWORD_MIN`` characters).
"""

from __future__ import annotations

import re
import secrets

from sqlalchemy import func, select

from core.models import OrgKind, OrgUnit, Role, RoleName, User

PASSWORD_MIN = 10
USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")

#: the org unit kinds a role's users may belong to (empty: no org unit at all)
ROLE_ORG_KINDS: dict[str, frozenset[OrgKind]] = {
    RoleName.FINANCE_ADMIN: frozenset({OrgKind.FINANCE_BUREAU}),
    RoleName.DEPT_ADMIN: frozenset({OrgKind.DEPARTMENT, OrgKind.TOWN, OrgKind.TOWN_DEPARTMENT}),
    RoleName.UNIT_USER: frozenset({OrgKind.UNIT}),
    RoleName.VIEWER: frozenset(OrgKind),
    RoleName.EXPERT: frozenset(),
    RoleName.AGENCY_USER: frozenset(),
}


class AccountError(ValueError):
    """A user that cannot be created; ``field`` names the offending input."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def check_password(password: str) -> None:
    if len(password) < PASSWORD_MIN:
        raise AccountError("password", f"must have at least {PASSWORD_MIN} characters")
    if len(password) > 200:
        raise AccountError("password", "must have at most 200 characters")


def check_new_user(session, username: str, role_name: str,
                   org_code: str | None = None) -> tuple[str, Role, OrgUnit | None]:
    """Check everything but the password: (clean username, role, org unit or None)."""
    username = username.strip()
    if not USERNAME.match(username):
        raise AccountError("username", "use 1 to 64 letters, digits and . _ - @")
    if session.scalar(select(func.count()).select_from(User)
                      .where(func.lower(User.username) == username.lower())):
        raise AccountError("username", f"{username!r} already exists")
    role = session.scalar(select(Role).where(Role.name == role_name))
    if role is None:
        known = ", ".join(session.scalars(select(Role.name).order_by(Role.name)))
        raise AccountError("role", f"no role {role_name!r} (known: {known})")
    org = None
    if org_code:
        org = session.scalar(select(OrgUnit).where(OrgUnit.code == org_code))
        if org is None:
            raise AccountError("org", f"no org unit with code {org_code!r}")
    _check_role_org(role.name, org)
    return username, role, org


def create_user(session, username: str, role_name: str, org_code: str | None = None,
                full_name: str = "", password: str = "") -> User:
    """Add a new active user to ``session`` (flushed, not committed) after every check."""
    username, role, org = check_new_user(session, username, role_name, org_code)
    check_password(password)
    user = User(username=username, full_name=" ".join(full_name.split())[:100], role=role,
                org_unit=org, active=True, session_token=secrets.token_hex(16))
    user.set_password(password)
    session.add(user)
    session.flush()
    return user


def _check_role_org(role_name: str, org: OrgUnit | None) -> None:
    kinds = ROLE_ORG_KINDS.get(role_name)
    if kinds is None:  # a role added in the admin: no rule known, any org or none
        return
    if not kinds:
        if org is not None:
            raise AccountError("org", f"a {role_name} user belongs to no org unit; "
                                      f"leave --org out")
        return
    if org is None:
        raise AccountError("org", f"a {role_name} user needs --org (an org unit of kind "
                                  f"{', '.join(sorted(k.value for k in kinds))})")
    if org.kind not in kinds:
        raise AccountError("org", f"{org.code} is a {org.kind.value}; a {role_name} user "
                                  f"belongs to {', '.join(sorted(k.value for k in kinds))}")


__all__ = ["AccountError", "check_new_user", "check_password", "create_user",
           "generate_password"]
