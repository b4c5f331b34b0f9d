"""Rate limits on failed logins and failed API authentication, in memory and in Redis.

Each test builds an app with a low limit (the suite's own config is generous, as
it logs in many times from one address). Only refused credentials count (not CSRF
errors); over the limit the login page answers with a Chinese 429 page and the API
with its JSON error, both saying when to try again. The tight limit is per address
and username (per address and token prefix for the API), so another person behind
the same office NAT address still gets in; a higher per-address ceiling stops a spray
over many names.
"""

from __future__ import annotations

import secrets

import pytest
import redis

from plugins.system.demo import DEMO_PASSWORD
from tests.core.web.test_api import documented_error, error  # noqa: F401 - autouse
from tests.support import bearer, csrf_from, new_token

REDIS_URL = "redis://127.0.0.1:6379/13"  # a db of its own; keys carry a per-test prefix
NOBODY = "no-such-user"  # failures with an unknown name lock no demo account


def _post_login(client, username: str, password: str):
    page = client.get("/login")
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": csrf_from(page.text)})


def _client(app, address: str = "192.0.2.10"):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


@pytest.fixture
def redis_prefix():
    """A key prefix of this test's own in the Redis db; its keys are deleted afterwards."""
    prefix = f"jixiao-test-{secrets.token_hex(6)}"
    yield prefix
    conn = redis.Redis.from_url(REDIS_URL)
    keys = list(conn.scan_iter(match=f"*{prefix}*"))
    if keys:
        conn.delete(*keys)
    conn.close()


@pytest.fixture(params=["memory", "redis"])
def limited_app(request, app, make_app):
    """An app allowing 3 failed logins per name (3 failed API authentications per token)
    and 6 per address a minute."""
    settings = {"LOGIN_RATE_LIMIT": "3 per minute", "API_AUTH_RATE_LIMIT": "3 per minute",
                "LOGIN_ADDRESS_RATE_LIMIT": "6 per minute",
                "API_AUTH_ADDRESS_RATE_LIMIT": "6 per minute"}
    if request.param == "redis":
        prefix = request.getfixturevalue("redis_prefix")
        settings.update(RATELIMIT_STORAGE_URI=REDIS_URL, RATELIMIT_KEY_PREFIX=prefix,
                        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=False)
    return make_app(**settings)


def test_failed_logins_over_the_limit_get_a_429_page_in_chinese(limited_app):
    client = _client(limited_app)
    for _ in range(3):
        r = _post_login(client, NOBODY, "wrong-password")
        assert r.status_code == 200 and "用户名或密码错误" in r.text
    r = _post_login(client, f"  {NOBODY.upper()} ", "wrong-password")  # the same name
    assert r.status_code == 429
    assert "失败尝试过多" in r.text and "秒后再试" in r.text
    assert 0 < int(r.headers["Retry-After"]) <= 60
    assert "Content-Security-Policy" in r.headers
    # another address is not held back
    assert _post_login(_client(limited_app, "192.0.2.11"), NOBODY, "wrong").status_code == 200


def test_another_user_behind_the_same_address_still_logs_in(limited_app):
    """An office behind one NAT address: one person's typos do not lock out the others."""
    client = _client(limited_app)
    for _ in range(3):
        assert _post_login(client, NOBODY, "wrong").status_code == 200
    assert _post_login(client, NOBODY, "wrong").status_code == 429
    colleague = _client(limited_app)  # same address
    assert _post_login(colleague, "dept01", DEMO_PASSWORD).status_code == 302
    assert colleague.get("/admin/").status_code == 200


def test_the_address_ceiling_stops_a_spray_over_many_names(limited_app):
    client = _client(limited_app)
    for n in range(6):  # one try per name: no name reaches its own limit
        assert _post_login(client, f"{NOBODY}-{n}", "wrong").status_code == 200
    assert _post_login(client, f"{NOBODY}-new", "wrong").status_code == 429
    assert _post_login(client, "dept01", DEMO_PASSWORD).status_code == 429
    assert _post_login(_client(limited_app, "192.0.2.11"), "dept01", DEMO_PASSWORD
                       ).status_code == 302


def test_csrf_and_form_errors_do_not_count(limited_app):
    client = _client(limited_app)
    for _ in range(4):  # more than the limit per name, without a CSRF token
        r = client.post("/login", data={"username": NOBODY, "password": "wrong"})
        assert r.status_code in (200, 400)
    for _ in range(4):  # and without a password: the form is refused before any check
        assert _post_login(client, NOBODY, "").status_code == 200
    assert _post_login(client, NOBODY, "wrong").status_code == 200  # not held back


def test_successful_logins_do_not_count(limited_app):
    for _ in range(5):
        assert _post_login(_client(limited_app), "dept01", DEMO_PASSWORD).status_code == 302
    assert _post_login(_client(limited_app), NOBODY, "wrong").status_code == 200


def test_viewing_the_login_page_does_not_count(limited_app):
    client = _client(limited_app)
    for _ in range(6):
        assert client.get("/login").status_code == 200


def test_failed_api_authentication_over_the_limit_gets_the_json_error(limited_app):
    client = _client(limited_app)
    good = bearer(new_token(limited_app, "dept01"))
    assert client.get("/api/v1/budget-items", headers=good).status_code == 200  # not counted
    for _ in range(3):
        error(client.get("/api/v1/budget-items", headers=bearer("jx_not-a-real-token")),
              401, "invalid_token")
    r = client.get("/api/v1/budget-items", headers=bearer("jx_not-a-real-token"))
    body = error(r, 429, "too_many_requests")
    assert "失败尝试过多" in body["message"]
    assert 0 < body["details"]["retry_after"] <= 60
    assert int(r.headers["Retry-After"]) == body["details"]["retry_after"]
    # another token from the same address, and other addresses, go on
    assert client.get("/api/v1/budget-items", headers=good).status_code == 200
    assert _client(limited_app, "192.0.2.12").get(
        "/api/v1/budget-items", headers=bearer("jx_not-a-real-token")).status_code == 401


def test_the_api_address_ceiling_stops_a_spray_over_many_tokens(limited_app):
    client = _client(limited_app)
    good = bearer(new_token(limited_app, "dept01"))
    for n in range(6):
        error(client.get("/api/v1/budget-items", headers=bearer(f"jx_{n}{secrets.token_hex(8)}")),
              401, "invalid_token")
    error(client.get("/api/v1/budget-items", headers=good), 429, "too_many_requests")
    assert _client(limited_app, "192.0.2.12").get("/api/v1/budget-items",
                                                  headers=good).status_code == 200


def test_redis_counts_are_shared_by_every_worker(app, make_app, redis_prefix):
    """Two apps on one Redis (two gunicorn workers): failures on one count on the other."""
    settings = {"LOGIN_RATE_LIMIT": "3 per minute", "RATELIMIT_STORAGE_URI": REDIS_URL,
                "RATELIMIT_KEY_PREFIX": redis_prefix,
                "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": False}
    first, second = make_app(**settings), make_app(**settings)
    for worker in (first, second, first):
        assert _post_login(_client(worker), NOBODY, "wrong").status_code == 200
    assert _post_login(_client(second), NOBODY, "wrong").status_code == 429
    conn = redis.Redis.from_url(REDIS_URL)
    assert list(conn.scan_iter(match=f"*{redis_prefix}*"))  # the counts live in Redis
    conn.close()


def test_memory_counts_are_per_process(app, make_app):
    """The default storage: each app (worker process) counts on its own — docs/security.md."""
    first, second = (make_app(LOGIN_RATE_LIMIT="3 per minute") for _ in range(2))
    for _ in range(3):
        assert _post_login(_client(first), NOBODY, "wrong").status_code == 200
    assert _post_login(_client(first), NOBODY, "wrong").status_code == 429
    assert _post_login(_client(second), "dept01", DEMO_PASSWORD).status_code == 302


def test_an_unreachable_redis_falls_back_to_counting_in_memory(app, make_app):
    """Logins go on while Redis is down, and failures are still limited (in this process)."""
    down = make_app(LOGIN_RATE_LIMIT="3 per minute",
                    RATELIMIT_STORAGE_URI="redis://127.0.0.1:9/0")  # nothing listens on port 9
    assert _post_login(_client(down), "dept01", DEMO_PASSWORD).status_code == 302
    for _ in range(3):
        assert _post_login(_client(down), NOBODY, "wrong").status_code == 200
    assert _post_login(_client(down), NOBODY, "wrong").status_code == 429


def test_behind_a_trusted_proxy_each_client_is_counted_by_its_own_address(app, make_app):
    proxied = make_app(LOGIN_RATE_LIMIT="3 per minute", TRUSTED_PROXIES=1)
    client = _client(proxied, "127.0.0.1")  # every request comes from the proxy
    for _ in range(3):
        client.environ_base["HTTP_X_FORWARDED_FOR"] = "198.51.100.7"
        assert _post_login(client, NOBODY, "wrong").status_code == 200
    assert _post_login(client, NOBODY, "wrong").status_code == 429
    client.environ_base["HTTP_X_FORWARDED_FOR"] = "198.51.100.8"  # another client
    assert _post_login(client, NOBODY, "wrong").status_code == 200


def test_without_a_trusted_proxy_a_forwarded_address_changes_nothing(limited_app):
    client = _client(limited_app)
    for n in range(3):
        client.environ_base["HTTP_X_FORWARDED_FOR"] = f"198.51.100.{n}"
        assert _post_login(client, NOBODY, "wrong").status_code == 200
    client.environ_base["HTTP_X_FORWARDED_FOR"] = "198.51.100.99"  # a made-up address
    assert _post_login(client, NOBODY, "wrong").status_code == 429
