"""Column helpers and mixins shared by every model, core and plugin alike."""

from __future__ import annotations

from datetime import UTC, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import DateTime, ForeignKey, Integer
from sqlalchemy.orm import Mapped, declared_attr, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


#: what a user is told when their edit was based on an older version of the record
STALE_RECORD = _l("Someone else changed this record while you were editing it. Reload the "
                  "page and apply your changes again.")


class VersionedMixin:
    """Optimistic locking: a stale edit fails instead of silently overwriting."""

    version: Mapped[int] = mapped_column(Integer, default=1, nullable=False)

    @declared_attr.directive
    def __mapper_args__(cls):  # noqa: N805
        return {"version_id_col": cls.__table__.c.version}


class OrgScoped:
    """Rows that belong to one org unit: a user sees the rows of their own subtree.

    The scope rule lives in ``core.scope``; a model only declares the column.
    Override ``scope_criteria`` (a classmethod returning a SQL expression, or
    None for no restriction) for any other rule.
    """

    @declared_attr
    def org_unit_id(cls) -> Mapped[int]:  # noqa: N805
        return mapped_column(ForeignKey("org_unit.id"), index=True, nullable=False)

    @classmethod
    def scope_criteria(cls, principal):
        if principal.sees_everything:
            return None
        return cls.org_unit_id.in_(principal.org_ids)
