"""The disclosure panel on a budget item's page (``jixiao_item_panels``): the item's
publications — its targets, a policy pilot, the evaluation results naming it — with
their state in words and, once published, the link to the public page."""

from __future__ import annotations

from typing import Any

from flask import render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import String, cast, false, or_, select
from sqlalchemy.orm import selectinload

from core.contracts import Panel
from core.extensions import db
from core.models import State
from core.permissions import can
from core.web.admin.display import enum_label, rendered
from plugins.disclosure.models import KIND_LABELS, Publication, PublicationKind, StoredResult
from plugins.disclosure.service import org_map
from plugins.disclosure.tasks import STAGE

#: the public department page's section of each kind (plugins/disclosure/public.py)
SECTIONS = {PublicationKind.ITEM_TARGETS: "targets", PublicationKind.POLICY_PILOT: "policies",
            PublicationKind.EVALUATION_RESULT: "results"}


def result_ids(item: Any) -> list[int]:
    """The stored results naming the item (``budget_item_ids`` is a JSON list of ids)."""
    rows = db.session.execute(
        select(StoredResult.id, StoredResult.budget_item_ids)
        .where(StoredResult.fiscal_year == item.fiscal_year.year,
               cast(StoredResult.budget_item_ids, String).like(f"%{item.id}%")))
    return [row.id for row in rows if item.id in (row.budget_item_ids or [])]


def disclosure_panels(item: Any) -> list[Panel]:
    if not can(current_user, "publication.view"):
        return []
    results = result_ids(item)
    pubs = list(db.session.scalars(
        select(Publication)
        .options(selectinload(Publication.result))
        .where(or_(Publication.budget_item_id == item.id,
                   Publication.result_id.in_(results) if results else false()))
        .order_by(Publication.fiscal_year, Publication.kind, Publication.id)))
    if not pubs:
        return []
    # the department's public page: its code is public, also to a unit outside its scope
    orgs = org_map()
    codes = {p.department_id: orgs[p.department_id].code for p in pubs
             if p.department_id in orgs}
    rows = []
    for pub in pubs:
        published = State(pub.state) == State.APPROVED and pub.published_at is not None
        rows.append({
            "kind": KIND_LABELS[pub.kind],
            "title": str(pub),
            "year": pub.fiscal_year,
            "state": _l("Made public") if published else enum_label(State(pub.state)),
            "published_at": pub.published_at if published else None,
            "link": url_for("publication.review", id=pub.id),
            "public": url_for("disclosure_public.department_page", year=pub.fiscal_year,
                              code=codes[pub.department_id], section=SECTIONS[pub.kind])
            if published and pub.department_id in codes else None,
        })
    html = render_template("disclosure/item_panel.html", rows=rows)
    # the template is autoescaped: its output is safe HTML
    return [Panel(STAGE, str(_l("Disclosure")), rendered(html))]
