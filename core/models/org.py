"""The organisation tree: finance bureau, departments, units, towns."""

from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Enum, ForeignKey, String, event, func, literal, update
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.orm.attributes import set_committed_value

from core.extensions import db
from core.models.base import TimestampMixin


class OrgKind(enum.StrEnum):
    FINANCE_BUREAU = "finance_bureau"  # 财政局
    DEPARTMENT = "department"  # 预算部门
    UNIT = "unit"  # 预算单位
    TOWN = "town"  # 街镇
    TOWN_DEPARTMENT = "town_department"  # 镇级预算部门


ORG_KIND_LABELS = {
    OrgKind.FINANCE_BUREAU: _l("Finance bureau"),
    OrgKind.DEPARTMENT: _l("Budget department"),
    OrgKind.UNIT: _l("Budget unit"),
    OrgKind.TOWN: _l("Town"),
    OrgKind.TOWN_DEPARTMENT: _l("Town department"),
}

#: Which kinds of parent each kind may have (None: a root).
ALLOWED_PARENTS: dict[OrgKind, set[OrgKind | None]] = {
    OrgKind.FINANCE_BUREAU: {None},
    OrgKind.DEPARTMENT: {OrgKind.FINANCE_BUREAU},
    OrgKind.TOWN: {OrgKind.FINANCE_BUREAU},
    OrgKind.UNIT: {OrgKind.DEPARTMENT, OrgKind.TOWN_DEPARTMENT},
    OrgKind.TOWN_DEPARTMENT: {OrgKind.TOWN},
}


class OrgError(ValueError):
    """An org unit placed where its kind does not belong."""


class OrgUnit(TimestampMixin, db.Model):
    """An organisation (机构): a node of the district's tree.

    ``path`` is the materialised path of ids (``/1/7/42/``) so that a subtree is
    one indexed prefix query.
    """

    __tablename__ = "org_unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[OrgKind] = mapped_column(Enum(OrgKind, native_enum=False, length=32))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
    path: Mapped[str] = mapped_column(String(400), default="", index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    parent: Mapped[OrgUnit | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[OrgUnit]] = relationship(back_populates="parent")

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def check_parent(self) -> None:
        parent_kind = self.parent.kind if self.parent is not None else None
        allowed = ALLOWED_PARENTS[OrgKind(self.kind)]
        if parent_kind not in allowed:
            raise OrgError(
                _l("A %(kind)s cannot be placed under %(parent)s.",
                   kind=ORG_KIND_LABELS[OrgKind(self.kind)],
                   parent=ORG_KIND_LABELS[parent_kind] if parent_kind else _l("nothing")))
        node = self.parent
        while node is not None:
            if node is self:
                raise OrgError(_l("An org unit cannot be its own ancestor."))
            node = node.parent

    def compute_path(self) -> str:
        base = self.parent.path if self.parent is not None else "/"
        return f"{base}{self.id}/"

    @classmethod
    def scope_criteria(cls, principal):
        if principal.sees_everything:
            return None
        return cls.id.in_(principal.org_ids)


@event.listens_for(OrgUnit, "before_insert")
@event.listens_for(OrgUnit, "before_update")
def _validate_parent(mapper, connection, target: OrgUnit) -> None:
    target.check_parent()


@event.listens_for(OrgUnit, "after_insert")
def _set_path(mapper, connection, target: OrgUnit) -> None:
    path = target.compute_path()
    table = OrgUnit.__table__
    connection.execute(update(table).where(table.c.id == target.id).values(path=path))
    set_committed_value(target, "path", path)


@event.listens_for(OrgUnit, "after_update")
def _move_subtree(mapper, connection, target: OrgUnit) -> None:
    old = target.path
    new = target.compute_path()
    if not old or old == new:
        return
    table = OrgUnit.__table__
    connection.execute(
        update(table).where(table.c.path.startswith(old))
        .values(path=literal(new) + func.substr(table.c.path, len(old) + 1)))
    set_committed_value(target, "path", new)
