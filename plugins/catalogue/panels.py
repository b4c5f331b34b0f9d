"""The catalogue panel on a budget item's page (``jixiao_item_panels``): the catalogue
entries naming the item or its project's item of another year — catalogue and its state, reason, planned evaluation year,
and the year it was evaluated in (or not yet). Under the reader's row scope."""

from __future__ import annotations

from typing import Any

from flask import render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core.contracts import Panel
from core.extensions import db
from core.models import State
from core.permissions import can
from core.web.admin.display import enum_label, money_text, rendered
from plugins.catalogue import planner
from plugins.catalogue.models import REASON_LABELS, Catalogue, CatalogueEntry
from plugins.catalogue.service import project_item_ids
from plugins.catalogue.tasks import STAGE


def catalogue_panels(item: Any) -> list[Panel]:
    if not can(current_user, "catalogue_entry.view"):
        return []
    entries = list(db.session.scalars(
        select(CatalogueEntry)
        .options(selectinload(CatalogueEntry.coverage),
                 selectinload(CatalogueEntry.catalogue).selectinload(Catalogue.org_unit))
        .where(CatalogueEntry.budget_item_id.in_(project_item_ids([item.id])))
        .order_by(CatalogueEntry.id)))
    if not entries:
        return []
    may_open = can(current_user, "catalogue.view")
    # a unit sees its items' entries, not the department's catalogue (outside its scope)
    rows = [{
        "catalogue": str(e.catalogue) if e.catalogue is not None else "",
        "state": enum_label(State(e.catalogue.state)) if e.catalogue is not None else "",
        "reason": REASON_LABELS.get(e.reason, e.reason),
        "amount": money_text(e.amount),
        "planned_year": e.planned_year,
        "covered_year": planner.covered_year(e),
        "link": url_for("catalogue.catalogue_page", id=e.catalogue_id)
        if may_open and e.catalogue is not None else url_for("catalogueentry.details_view", id=e.id),
    } for e in entries]
    html = render_template("catalogue/item_panel.html", rows=rows)
    # the template is autoescaped: its output is safe HTML
    return [Panel(STAGE, str(_l("Key evaluation catalogue")), rendered(html))]
