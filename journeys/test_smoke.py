"""The app opens in chromium in Chinese for a logged-in user; a bad password stays on the login page."""


def test_dashboard_in_chinese(page_as, shot):
    page = page_as("finance")
    assert "/login" not in page.url
    body = page.locator("body").inner_text()
    assert "绩效" in body
    shot(page, "dashboard_finance")


def test_wrong_password_stays_on_login(visitor):
    page = visitor()
    page.goto("/login")
    page.locator("#username").fill("finance")
    page.locator("#password").fill("wrong-password")
    page.get_by_role("button", name="登录").click()
    assert "/login" in page.url
    assert "用户名或密码" in page.locator("body").inner_text()
