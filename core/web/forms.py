"""Form fields and validators shared by every plugin."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from flask import flash
from flask_babel import lazy_gettext as _l
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select
from wtforms import HiddenField, StringField
from wtforms.validators import ValidationError

from core.extensions import db
from core.money import MoneyError, parse_money


def flash_problems(problems: Iterable[Any]) -> None:
    """Refuse a post with every reason: undo the session's unsaved work, then flash each
    problem as an error, in order (``str()`` of each: a message, a lazy string, or a
    ``Problem`` shown with its path)."""
    db.session.rollback()
    for problem in problems:
        flash(str(problem), "error")


def add_field_error(field, message) -> bool:
    """Show ``message`` under ``field``; returns False, for ``return add_field_error(…)``."""
    field.errors = [*field.errors, str(message)]
    return False


def stringify_errors(form) -> None:
    """Turn lazy (Babel) error messages into text, recursing into inline forms.

    WTForms stores a validator's message as given; Flask-Admin only shows
    errors that are ``str``, so a ``lazy_gettext`` message would vanish.
    """
    for field in form:
        if hasattr(field, "entries"):
            for entry in field.entries:
                stringify_errors(entry.form if hasattr(entry, "form") else [entry])
        elif hasattr(field, "form") and hasattr(field.form, "_fields"):
            stringify_errors(field.form)
        elif isinstance(field.errors, list | tuple):
            field.errors = [e if isinstance(e, str | dict | list | tuple) else str(e)
                            for e in field.errors]


def strip(value: Any) -> Any:
    """A WTForms filter: trim surrounding whitespace from text input."""
    return value.strip() if isinstance(value, str) else value


class MoneyField(StringField):
    """An amount in yuan: a Decimal with at most two places, never negative.

    Input with more places is refused, not rounded.
    """

    def __init__(self, label=None, validators=None, allow_negative: bool = False, **kwargs):
        kwargs.setdefault("description", _l("Yuan, at most two decimal places"))
        super().__init__(label, validators, **kwargs)
        self.allow_negative = allow_negative

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else f"{self.data:.2f}"

    def process_formdata(self, valuelist):
        self.data = None
        if valuelist and valuelist[0].strip():
            try:
                self.data = parse_money(valuelist[0], allow_negative=self.allow_negative)
            except MoneyError as exc:
                self.data = None
                raise ValueError(str(exc)) from None

    def pre_validate(self, form):
        if self.data is not None and not isinstance(self.data, Decimal):
            raise ValidationError(_l("Not a valid amount."))


class VersionField(HiddenField):
    """The row version a form was loaded with (optimistic locking).

    The view compares it with the stored version; it is never written back,
    so SQLAlchemy keeps counting versions itself.
    """

    def populate_obj(self, obj, name) -> None:
        pass


class Unique:
    """The value is not used by another row (checked over all rows, not the user's scope).

    ``within`` maps other form fields to the columns that complete a
    multi-column unique constraint: ``Unique(BudgetItem.code,
    within={"fiscal_year": BudgetItem.fiscal_year_id})``. A field holding a
    model object is compared by its primary key. The row being edited
    (``form._obj``, set by Flask-Admin) does not count as a duplicate.
    """

    def __init__(self, column, *, within: Mapping[str, Any] | None = None, message=None):
        self.column = column
        self.within = dict(within or {})
        self.message = message

    @staticmethod
    def _key(value: Any) -> Any:
        if hasattr(value, "__table__"):
            return sa_inspect(value).identity[0] if sa_inspect(value).identity else None
        return value

    def __call__(self, form, field) -> None:
        from core.extensions import db

        value = field.data
        if value is None or value == "":
            return
        model = self.column.class_
        pk = sa_inspect(model).primary_key[0]
        stmt = select(pk).where(self.column == value)
        scope_labels = []
        for name, column in self.within.items():
            other = self._key(form[name].data)
            if other is None:
                return  # the other field has its own error
            stmt = stmt.where(column == other)
            scope_labels.append(str(form[name].label.text))
        current = getattr(form, "_obj", None)
        if current is not None and sa_inspect(current).identity:
            stmt = stmt.where(pk != sa_inspect(current).identity[0])
        found = db.session.execute(
            stmt.limit(1).execution_options(jixiao_unscoped=True)).first()
        if found is None:
            return
        if self.message is not None:
            raise ValidationError(self.message)
        if scope_labels:
            raise ValidationError(_l(
                'The %(field)s "%(value)s" is already in use in this %(scope)s.',
                field=field.label.text, value=value, scope=" / ".join(scope_labels)))
        raise ValidationError(_l('The %(field)s "%(value)s" is already in use.',
                                 field=field.label.text, value=value))
