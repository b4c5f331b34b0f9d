"""Logging in and out, lockout and session cookies."""

from tests.support import csrf_from, do_login


def test_login_page_is_chinese_by_default(client):
    page = client.get("/login")
    assert page.status_code == 200
    assert "登录" in page.text


def test_dept_admin_logs_in_and_sees_dashboard(login):
    c = login("dept01")
    home = c.get("/admin/")
    assert home.status_code == 200
    assert "区教育局" in home.text


def test_wrong_password_is_refused(client):
    response = do_login(client, "dept01", "wrong-password")
    assert "用户名或密码错误" in response.text
    assert client.get("/admin/").status_code == 302


def test_logout_needs_post_with_csrf(login):
    c = login("dept01")
    assert c.post("/logout").status_code == 400
    token = csrf_from(c.get("/admin/").text)
    assert c.post("/logout", data={"csrf_token": token}).status_code == 302
    assert c.get("/admin/").status_code == 302
