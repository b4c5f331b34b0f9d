"""Hooks of the agencies plugin (第三方机构): engagement checks and closing.

Declared through ``jixiao_add_hookspecs``; another plugin implements them with
``@hookimpl(optionalhook=True)`` so that it still starts when this plugin is off.
"""

from __future__ import annotations

import pluggy

from core.hookspecs import PROJECT
from core.plugins import hooks

hookspec = pluggy.HookspecMarker(PROJECT)


@hookspec
def jixiao_engagement_checks(engagement):
    """Conflict-of-interest (回避) and eligibility checks of an agency engagement.

    Called by the agencies plugin before an ``engagement`` is approved and
    whenever its review page is shown, with the ``engagement`` as a
    ``core.contracts.EngagementView`` (agency, team, items, kind, org unit), outside
    the row scope (the checks look at every unit's engagements). Returns a list of
    reasons, each a message; every reason of every plugin is shown together and
    the engagement is not approved while there is one (an agency scoring plugin
    reports a banned agency or staff member here). Return an empty list (or
    nothing) when there is no objection.
    """


@hookspec
def jixiao_engagement_closed(engagement):
    """Broadcast when an agency engagement closes, inside its transaction.

    ``engagement`` is a ``core.contracts.EngagementView`` (agency scoring opens
    the engagement's assessment here). Returns nothing.
    """


def engagement_checks(engagement) -> list:
    """Every plugin's reasons against approving ``engagement`` (an ``EngagementView``)."""
    return [r for batch in hooks().declared("jixiao_engagement_checks")(engagement=engagement)
            for r in (batch or [])]


def engagement_closed(engagement) -> None:
    hooks().declared("jixiao_engagement_closed")(engagement=engagement)
