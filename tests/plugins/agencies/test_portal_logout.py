"""The portal's 退出 logs the agency user out (a POST form with the CSRF token, like the
back office's): afterwards the portal sends the browser to the login page."""

from __future__ import annotations

import re

from tests.support import csrf_from


def test_the_portal_logout_form_logs_the_agency_user_out(login):
    client = login("agency01")
    page = client.get("/portal/")
    assert page.status_code == 200
    form = re.search(r'<form[^>]*method="post"[^>]*action="/logout".*?</form>', page.text, re.S)
    assert form, "the portal has no logout form"
    assert "退出" in form.group(0)
    out = client.post("/logout", data={"csrf_token": csrf_from(form.group(0))})
    assert out.status_code == 302 and "/login" in out.headers["Location"]
    again = client.get("/portal/")
    assert again.status_code == 302 and "/login" in again.headers["Location"]
