"""Users, roles and the permissions granted to each role."""

from __future__ import annotations

import enum
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.models.base import TimestampMixin
from core.models.org import OrgUnit

_hasher = PasswordHasher()


class RoleName(enum.StrEnum):
    FINANCE_ADMIN = "finance_admin"  # 财政
    DEPT_ADMIN = "dept_admin"  # 部门
    UNIT_USER = "unit_user"  # 单位
    EXPERT = "expert"  # 专家
    AGENCY_USER = "agency_user"  # 第三方
    VIEWER = "viewer"


ROLE_LABELS = {
    RoleName.FINANCE_ADMIN: _l("Finance bureau administrator"),
    RoleName.DEPT_ADMIN: _l("Department administrator"),
    RoleName.UNIT_USER: _l("Unit user"),
    RoleName.EXPERT: _l("Expert"),
    RoleName.AGENCY_USER: _l("Agency user"),
    RoleName.VIEWER: _l("Viewer"),
}


class Role(db.Model):
    __tablename__ = "role"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    permissions: Mapped[list[RolePermission]] = relationship(
        back_populates="role", cascade="all, delete-orphan")

    def __str__(self) -> str:
        try:
            return str(ROLE_LABELS[RoleName(self.name)])
        except ValueError:
            return self.name


class RolePermission(db.Model):
    """One permission granted to one role (editable by the finance bureau)."""

    __tablename__ = "role_permission"
    __table_args__ = (UniqueConstraint("role_id", "permission"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    role_id: Mapped[int] = mapped_column(ForeignKey("role.id", ondelete="CASCADE"))
    permission: Mapped[str] = mapped_column(String(80))
    role: Mapped[Role] = relationship(back_populates="permissions")

    def __str__(self) -> str:
        return self.permission


class User(UserMixin, TimestampMixin, db.Model):
    """A person who logs in. Scope comes from ``org_unit``; rights from ``role``."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(100), default="")
    email: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200), default="")
    role_id: Mapped[int] = mapped_column(ForeignKey("role.id"))
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: Bumped when the password changes, so that other sessions end.
    session_token: Mapped[str] = mapped_column(String(64), default="")
    locale: Mapped[str | None] = mapped_column(String(16))
    #: notifications by e-mail too (when the server has MAIL_SERVER), not only in the app
    notify_by_email: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    role: Mapped[Role] = relationship(lazy="joined")
    org_unit: Mapped[OrgUnit | None] = relationship(lazy="joined")

    def __str__(self) -> str:
        return f"{self.full_name or self.username} ({self.username})"

    @property
    def is_active(self) -> bool:  # flask-login
        return bool(self.active)

    def get_id(self) -> str:  # flask-login: a password change ends other sessions
        return f"{self.id}:{self.session_token}"

    @property
    def role_name(self) -> str:
        return self.role.name if self.role else ""

    @staticmethod
    def hash_password(password: str) -> str:
        return _hasher.hash(password)

    def set_password(self, password: str) -> None:
        self.password_hash = self.hash_password(password)

    def check_password(self, password: str) -> bool:
        if not self.password_hash:
            return False
        try:
            return _hasher.verify(self.password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    @classmethod
    def scope_criteria(cls, principal):
        if principal.sees_everything:
            return None
        return (cls.org_unit_id.in_(principal.org_ids)) | (cls.id == principal.user_id)
