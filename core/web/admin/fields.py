"""How admin forms are built from models: amounts, enums, uniqueness, related rows.

``AdminConverter`` is Flask-Admin's model→form converter with the core's rules,
so every view (core and plugins) gets them without per-field code:

- ``Money`` columns become a ``MoneyField`` (exact Decimal, ≤ 2 places, ≥ 0);
- enum columns become a select showing the registered labels;
- unique columns are checked over all rows, not only the user's scope, with a
  message that names the field (``core.web.forms.Unique``);
- a related row picked by id (ajax select) must exist and be visible to the
  user, otherwise "Not a valid choice" — even where the relation is optional.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from flask_admin.contrib.sqla import form as sqla_form
from flask_admin.contrib.sqla.validators import Unique as AdminUnique
from flask_admin.form import Select2Field
from flask_admin.model.fields import AjaxSelectField
from flask_admin.model.form import converts
from flask_babel import lazy_gettext as _l
from wtforms import validators as v
from wtforms.validators import ValidationError

from core.web.admin.display import enum_choices
from core.web.forms import MoneyField, Unique, strip


class StrictAjaxSelectField(AjaxSelectField):
    """An ajax select that refuses an id it cannot find instead of treating it as empty."""

    def pre_validate(self, form) -> None:
        posted = self._formdata
        if self.data is None and (posted not in (None, "", "__None") or not self.allow_blank):
            raise ValidationError(_l("Not a valid choice"))


def _enum_coercer(enum_cls: type[Enum]):
    def coerce(value: Any) -> Enum:
        if isinstance(value, enum_cls):
            return value
        try:
            return enum_cls(value)
        except ValueError:
            try:
                return enum_cls[value]
            except KeyError:
                raise ValueError(value) from None

    return coerce


class EnumSelectField(Select2Field):
    """A select of enum members showing their labels; the data is the member."""

    def pre_validate(self, form) -> None:
        if self.data is None and not self.allow_blank:
            raise ValidationError(_l("Not a valid choice"))
        super().pre_validate(form)


class AdminConverter(sqla_form.AdminModelConverter):
    def convert(self, model, mapper, name, prop, field_args, hidden_pk):
        field = super().convert(model, mapper, name, prop, field_args, hidden_pk)
        validators = getattr(field, "kwargs", {}).get("validators")
        if validators:
            for i, validator in enumerate(validators):
                if isinstance(validator, AdminUnique):
                    validators[i] = Unique(getattr(model, validator.column.key))
            if any(isinstance(x, Unique) for x in validators) and \
                    field.field_class.__name__ == "StringField":
                field.kwargs["filters"] = [strip, *field.kwargs.get("filters", [])]
        return field

    def _model_select_field(self, prop, multiple, remote_model, **kwargs):
        loader = getattr(self.view, "_form_ajax_refs", {}).get(prop.key)
        if loader and not multiple:
            return StrictAjaxSelectField(loader, **kwargs)
        return super()._model_select_field(prop, multiple, remote_model, **kwargs)

    @converts("core.money.Money")
    def conv_money(self, column, field_args, **extra):
        field_args["validators"] = [
            x for x in field_args["validators"] if not isinstance(x, v.InputRequired | v.Optional)]
        field_args["validators"].insert(0, v.Optional() if column.nullable else v.InputRequired())
        return MoneyField(**field_args)

    @converts("sqlalchemy.sql.sqltypes.Enum")
    def convert_enum(self, column, field_args, **extra):
        enum_cls = getattr(column.type, "enum_class", None)
        if enum_cls is None:
            return super().convert_enum(column=column, field_args=field_args, **extra)
        field_args["choices"] = [(m.value, label) for m, label in enum_choices(enum_cls)]
        field_args["coerce"] = _enum_coercer(enum_cls)
        field_args["allow_blank"] = bool(column.nullable)
        return EnumSelectField(**field_args)
