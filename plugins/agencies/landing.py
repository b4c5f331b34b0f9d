"""Agency users live in the portal: after logging in (the login goes to the admin home)
they land on /portal, and the admin navigation links back to it."""

from __future__ import annotations

from flask import redirect, request, url_for
from flask_admin.menu import MenuLink
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from core.permissions import can


def _is_agency_user() -> bool:
    return current_user.is_authenticated and can(current_user, "agency_portal.view")


def portal_home():
    """``before_request``: the admin home of an agency user is the portal."""
    if request.endpoint == "admin.index" and _is_agency_user():
        return redirect(url_for("agency_portal.index"))
    return None


class PortalLink(MenuLink):
    """The admin menu's link to the agency portal, for agency users only."""

    def is_accessible(self) -> bool:
        return _is_agency_user()


def portal_link() -> PortalLink:
    return PortalLink(name=_l("Agency portal"), endpoint="agency_portal.index")
