"""The bars of the home page's stage cards: counts per org unit, grouped the way the reader
looks at their scope — the finance bureau per department, a department per unit (and its
own items), a unit its own — each bar a link to the list filtered to that org unit.

A plugin counts ``(done, total)`` per org unit id in one grouped query (under the row
scope) and hands the counts here; the org units are read once per request.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import g
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from core.contracts import Bar
from core.extensions import db
from core.models import OrgUnit, State
from core.web.admin.base import list_url
from core.web.admin.filters import UNIT_KINDS, OrgUnitFilter


def org_units() -> dict[int, OrgUnit]:
    """Every org unit the reader may see by id, read once a request."""
    if "jixiao_orgs" not in g:
        g.jixiao_orgs = {o.id: o for o in db.session.scalars(select(OrgUnit))}
    return g.jixiao_orgs


def _bucket(org: OrgUnit, orgs: dict[int, OrgUnit]) -> OrgUnit:
    """The org unit one level below the reader's own that holds ``org`` (or ``org`` itself
    when it is the reader's own or lies outside it)."""
    own = orgs.get(getattr(current_user, "org_unit_id", None))
    if own is None or not org.path.startswith(own.path) or org.id == own.id:
        return org
    below = org.path[len(own.path):].strip("/").split("/")[0]
    return orgs.get(int(below), org)


def org_bars(counts: Mapping[int | None, tuple[int, int]], endpoint: str, column: Any,
             *filters: Any) -> tuple[Bar, ...]:
    """One bar per department or unit from ``counts`` (org unit id → ``(done, total)``),
    linking to the list ``endpoint`` filtered on ``filters`` and on the org unit ``column``."""
    orgs, sums = org_units(), {}
    for org_id, (done, total) in counts.items():
        if org_id in orgs:
            bucket = _bucket(orgs[org_id], orgs)
            old = sums.get(bucket, (0, 0))
            sums[bucket] = (old[0] + done, old[1] + total)
    own = getattr(current_user, "org_unit_id", None)
    bars = []
    for org, (done, total) in sorted(sums.items(), key=lambda i: i[0].code or ""):
        if org.id == own and org.kind not in UNIT_KINDS:  # its own items, not its units'
            bars.append(Bar(_("%(name)s (own items)", name=org.name), done, total))
        else:
            bars.append(Bar(org.name, done, total,
                            list_url(endpoint, *filters, (column, OrgUnitFilter, org))))
    return tuple(bars)


def tally(rows) -> tuple[dict[State, int], dict[int, tuple[int, int]]]:
    """From (org unit id, state, count) rows: the count per state, and per org unit the
    (approved, all) pair its bar shows."""
    counts: dict[State, int] = {}
    per_org: dict[int, tuple[int, int]] = {}
    for org_id, state, n in rows:
        counts[State(state)] = counts.get(State(state), 0) + n
        done, total = per_org.get(org_id, (0, 0))
        per_org[org_id] = (done + (n if State(state) is State.APPROVED else 0), total + n)
    return counts, per_org
