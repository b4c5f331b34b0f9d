"""Broadcasts ``jixiao_budget_item_changed`` for every BudgetItem a flush created or changed.

Called after the flush, inside its transaction (a plugin raising there undoes
the change). Bulk ``INSERT``/``UPDATE`` statements bypass the flush and are not
broadcast item by item.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from core.models import BudgetItem


@event.listens_for(Session, "after_flush")
def _broadcast(session: Session, flush_context: Any) -> None:
    if not has_app_context():
        return
    pm = current_app.extensions.get("jixiao_plugins")
    if pm is None:
        return
    changed = [obj for obj in session.new if isinstance(obj, BudgetItem)]
    changed += [obj for obj in session.dirty if isinstance(obj, BudgetItem)
                and session.is_modified(obj, include_collections=False)]
    for item in changed:
        pm.hook.jixiao_budget_item_changed(item=item)
