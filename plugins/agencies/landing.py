"""Agency users live in the portal: the login sends them to /portal where it would send
anyone else to the admin home, and the admin navigation links to the portal for them.

Only the login's redirect changes: an agency user may still open the admin pages they
are allowed (their assessments and appeals), including its home."""

from __future__ import annotations

from flask import request, url_for
from flask_admin.menu import MenuLink
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from core.permissions import can


def _is_agency_user(user) -> bool:
    return user.is_authenticated and can(user, "agency_portal.view")


def install(app) -> None:
    app.after_request(portal_landing)


def portal_landing(response):
    """``after_request``: a successful login of an agency user that goes to the admin
    home goes to the portal instead (a ``next`` page they asked for is kept)."""
    if request.endpoint == "auth.login" and response.status_code in (302, 303) and \
            response.location == url_for("admin.index") and _is_agency_user(current_user):
        response.location = url_for("agency_portal.index")
    return response


class PortalLink(MenuLink):
    """The admin menu's link to the agency portal, for agency users only."""

    def is_accessible(self) -> bool:
        return _is_agency_user(current_user)


def portal_link() -> PortalLink:
    return PortalLink(name=_l("Agency portal"), endpoint="agency_portal.index")
