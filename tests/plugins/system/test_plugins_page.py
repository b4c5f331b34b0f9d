"""The Plugins page of the system plugin: for the finance bureau only.

(What it shows of an installed external plugin, or of one switched off, is tested with
the example plugin in tests/core/test_plugins.py.)
"""

from __future__ import annotations


def test_plugins_page_is_for_the_finance_bureau(login):
    c = login("finance")
    home = c.get("/admin/")
    assert 'href="/admin/plugins/"' in home.text
    page = c.get("/admin/plugins/")
    assert page.status_code == 200
    assert 'data-plugin="system"' in page.text and "plugins.system" in page.text
    assert "<code>jixiao_admin_views</code>" in page.text

    def row(name):
        return page.text.split(f'data-plugin="{name}"')[1].split("</tr>")[0]

    assert "不可停用" in row("system") and "不可停用" not in row("targets")
    for username in ("dept01", "viewer"):
        other = login(username)
        assert 'href="/admin/plugins/"' not in other.get("/admin/").text
        assert other.get("/admin/plugins/").status_code == 403
