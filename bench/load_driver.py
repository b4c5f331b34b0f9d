"""The load of ``bench_load.py``: locust users against one loopback server, for a fixed time.

    python bench/load_driver.py PLAN.json RESULT.json

Run as its own process because locust patches the standard library (gevent) when
imported. The plan (written by ``bench_load.py``) names the host, the number of
users, the settling time (after every user has started and every staff user has
logged in; not measured), the run time, the staff accounts, API tokens and the work-log bodies; the
result holds, per request kind and overall, the count, failures and the p50, p95
and p99 response times in ms (locust's histogram: above 100 ms rounded to 10 ms,
above 1 s to 100 ms), the first failures, and how many work logs were answered 201.
Stdout says "measure start" and "measure end" when the measured time starts and ends.
"""

from __future__ import annotations

import json
import re
import sys
from itertools import cycle

import gevent
from locust import HttpUser, between, task
from locust.env import Environment
from locust.exception import StopUser

PLAN = json.loads(open(sys.argv[1], encoding="utf-8").read())
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
THINK = between(PLAN["think_min_s"], PLAN["think_max_s"])
STAFF = cycle(PLAN["staff"])  # [{"username", "detail"}]: each new staff user takes the next
API_TOKENS = cycle(PLAN["api_tokens"])
BODIES = iter(PLAN["work_logs"])
created_total = 0
in_flight = 0  # work-log posts sent and not yet answered
logged_in = 0
stopping = False


class StaffUser(HttpUser):
    """Finance, department and unit staff in the admin: dashboard, lists, a detail page."""

    weight = 2
    wait_time = THINK

    def on_start(self):
        self.account = next(STAFF)
        page = self.client.get("/login", name="page: login form")
        found = TOKEN.search(page.text)
        self.client.post("/login", name="page: login", data={
            "username": self.account["username"], "password": PLAN["password"],
            "csrf_token": (found.group(1) or found.group(2)) if found else ""})
        global logged_in
        logged_in += 1

    @task(2)
    def dashboard(self):
        self.client.get("/admin/", name="page: dashboard")

    @task(2)
    def budget_items(self):
        self.client.get("/admin/budgetitem/", name="page: budget item list")

    @task(1)
    def target_sheets(self):
        self.client.get("/admin/targetsheet/", name="page: target sheet list")

    @task(2)
    def detail(self):
        self.client.get(self.account["detail"], name="page: budget item detail")


class ApiReader(HttpUser):
    """An integration reading list endpoints with a personal API token."""

    weight = 1
    wait_time = THINK

    def on_start(self):
        self.client.headers["Authorization"] = f"Bearer {next(API_TOKENS)}"

    @task
    def budget_items(self):
        self.client.get("/api/v1/budget-items", name="api: GET budget-items")

    @task
    def target_sheets(self):
        self.client.get("/api/v1/target-sheets", name="api: GET target-sheets")

    @task
    def engagements(self):
        self.client.get("/api/v1/engagements", name="api: GET engagements")


class AgencyWriter(HttpUser):
    """Agency staff logging work through the API (one work log per post)."""

    weight = 1
    wait_time = THINK

    def on_start(self):
        self.client.headers["Authorization"] = f"Bearer {PLAN['agency_token']}"

    @task
    def post_work_log(self):
        global created_total, in_flight
        body = None if stopping else next(BODIES, None)
        if body is None:
            raise StopUser()  # the end, or the plan's work logs ran out (reported)
        in_flight += 1
        with self.client.post("/api/v1/work-logs", json=body, name="api: POST work-logs",
                              catch_response=True) as response:
            if response.status_code == 201:
                created_total += 1
                response.success()
            else:
                response.failure(f"{response.status_code}: {response.text[:200]}")
        in_flight -= 1


def figures(entry) -> dict:
    done = entry.num_requests
    return {"requests": done, "failures": entry.num_failures,
            **{f"p{p}": entry.get_response_time_percentile(p / 100) if done else 0
               for p in (50, 95, 99)}}


def main() -> None:
    env = Environment(user_classes=[StaffUser, ApiReader, AgencyWriter], host=PLAN["host"])
    runner = env.create_local_runner()
    runner.start(PLAN["users"], spawn_rate=PLAN["spawn_rate"])
    while runner.user_count < PLAN["users"]:
        gevent.sleep(0.1)
    staff = runner.user_classes_count.get("StaffUser", 0)
    for _ in range(1800):  # every staff user has logged in (at most 3 minutes)
        if logged_in >= staff:
            break
        gevent.sleep(0.1)
    gevent.sleep(PLAN["settle_s"])
    env.stats.reset_all()  # the figures start here
    print("measure start", flush=True)
    env.stats.reset_all()
    gevent.sleep(PLAN["duration_s"])
    print("measure end", flush=True)
    global stopping
    stopping = True  # every post sent gets its answer counted before the users stop
    for _ in range(1200):
        if not in_flight:
            break
        gevent.sleep(0.1)
    runner.quit()
    stats = env.stats
    out = {"kinds": {name: figures(entry) for (name, _method), entry in
                     sorted(stats.entries.items())},
           "total": figures(stats.total),
           "seconds": stats.total.last_request_timestamp - stats.total.start_time
           if stats.total.last_request_timestamp else 0.0,
           "failures": [f"{e.method} {e.name}: {e.error} ×{e.occurrences}"
                        for e in list(stats.errors.values())[:10]],
           "work_logs_created": created_total,
           "work_logs_unanswered": in_flight,
           "work_logs_left": sum(1 for _ in BODIES)}
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
