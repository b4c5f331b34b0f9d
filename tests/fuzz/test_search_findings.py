"""What the search-box injection test (test_search_injection.py) found, one test per defect.

- a NUL character in a search (admin search box or an API text argument) reached
  PostgreSQL, which refuses NUL in text: a server error. (SQLite took it.)
- ``%`` and ``_`` in the API's ``q`` were LIKE wildcards: ``q=%`` listed every row.
- a caller without the route's permission got a 422 for a bad argument before the
  403: validation ran first and told a refused caller the rules.
"""

from __future__ import annotations

from tests.fuzz.support import bearer, new_token


def test_a_nul_in_an_admin_search_is_no_server_error(login):
    client = login("finance")
    for url in ("/admin/budgetitem/", "/admin/user/", "/admin/agency_assessment/"):
        response = client.get(f"{url}?search=a%00b")
        assert response.status_code == 200, (url, response.status_code)


def test_a_nul_in_an_api_argument_is_a_validation_error(app, client):
    headers = bearer(new_token(app, "finance"))
    response = client.get("/api/v1/budget-items?q=a%00b", headers=headers)
    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == "validation_error" and "q" in body["details"]["query"]


def test_percent_and_underscore_are_letters_in_the_api_search(app, client):
    headers = bearer(new_token(app, "finance"))
    everything = client.get("/api/v1/budget-items", headers=headers).get_json()["total"]
    assert everything > 0
    for q in ("%", "_", "%%"):
        body = client.get(f"/api/v1/budget-items?q={q.replace('%', '%25')}",
                          headers=headers).get_json()
        assert body["total"] == 0, q
    templates = client.get("/api/v1/indicator-templates?q=%25", headers=headers).get_json()
    assert templates["total"] == 0


def test_the_permission_is_checked_before_the_arguments(app, client):
    headers = bearer(new_token(app, "agency01"))  # agencies may not list budget items
    response = client.get("/api/v1/budget-items?q=" + "x" * 500, headers=headers)
    assert response.status_code == 403 and response.get_json()["code"] == "forbidden"
