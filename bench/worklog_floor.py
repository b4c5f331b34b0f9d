"""The ``floor`` side of ``worklog_post``: the project's own SQL for one work-log post,
sent with psycopg from a bare Flask endpoint (no framework of ours).

It sends what ``POST /api/v1/work-logs`` sends (``worklog_post_calls`` counts the
project's statements; this side must send as many): the pool's pre-ping, then the
token with its user, role, permissions and agency (``core.tokens``), the engagement
read through the agency's scope while locking the person's row
(``plugins.agencies.service``), the INSERT that checks the person's day
(``core.services.bulk.insert_row``'s ``where``), the audit entry hashed and chained in the
database (``core.audit._one_entry_statement``), and the commit. The statements are
these modules' PostgreSQL SQL, written out; the checks between them are the least
that keeps every post correct. So ``floor / baseline`` is what the design's SQL
costs, and ``project / floor`` what the framework around it costs (Flask-Login,
Flask-Limiter, Talisman, flask-smorest and marshmallow, SQLAlchemy's session and
execution, the scope and audit code).
"""

from __future__ import annotations

import textwrap

FLOOR_APP = textwrap.dedent('''
    """The floor: the project's statements for one work-log post, raw psycopg."""
    import hashlib
    import json
    import os
    from datetime import date, datetime, timezone
    from decimal import Decimal

    import psycopg
    from flask import Flask, jsonify, request

    app = Flask(__name__)
    DSN = os.environ["BASELINE_DSN"]
    _conn = None

    TOKEN = """SELECT t.id, t.expires_at, t.revoked_at, u.id, u.username, u.active,
      (SELECT string_agg(p.permission, ',') FROM role_permission p WHERE p.role_id = u.role_id),
      (SELECT m.agency_id FROM agency_member m WHERE m.user_id = u.id LIMIT 1)
      FROM api_token t LEFT JOIN user_account u ON u.id = t.user_id
      LEFT JOIN role r ON r.id = u.role_id LEFT JOIN org_unit o ON o.id = u.org_unit_id
      WHERE t.token_hash = %(h)s"""
    ENGAGEMENT = """SELECT e.id, e.agency_id, e.org_unit_id, e.state, e.closed_at, e.start_on,
      e.end_on, s.id FROM engagement e
      JOIN engagement_staff es ON es.engagement_id = e.id JOIN agency_staff s ON s.id = es.staff_id
      WHERE e.id = %(e)s AND s.id = %(s)s AND e.agency_id IN (%(a)s) FOR UPDATE OF s"""
    INSERT = """INSERT INTO work_log (engagement_id, agency_id, org_unit_id, staff_id, work_date,
      hours, activity, location, notes, created_by_id, submitted_at, created_at, updated_at)
      SELECT %(e)s, %(a)s, %(o)s, %(s)s, %(d)s::DATE, %(h)s, %(act)s, %(loc)s, %(n)s, %(u)s,
      NULL, %(now)s, %(now)s
      WHERE round((SELECT coalesce(sum(hours), 0) FROM work_log WHERE staff_id = %(s)s
             AND work_date = %(d)s::DATE) + %(h)s, 2) <= 24
      RETURNING id, engagement_id, agency_id, org_unit_id, staff_id, work_date, hours,
      activity, location, notes, submitted_at, created_by_id, created_at, updated_at"""
    AUDIT = """WITH tip AS (SELECT last_id, last_hash FROM audit_head WHERE id = 1 FOR UPDATE),
      new_entry AS (INSERT INTO audit_log (id, at, user_id, username, action, object_type,
        object_id, before, after, prev_hash, entry_hash)
        SELECT tip.last_id + 1, %(at)s, %(u)s, %(un)s, 'create', 'work_log', %(oid)s,
        'null'::json, %(after)s::json, tip.last_hash, encode(sha256(convert_to(%(h1)s
        || CAST(tip.last_id + 1 AS TEXT) || %(h2)s || tip.last_hash || %(h3)s, 'UTF8')), 'hex')
        FROM tip RETURNING id, entry_hash)
      UPDATE audit_head SET last_id = new_entry.id, last_hash = new_entry.entry_hash
      FROM new_entry WHERE audit_head.id = 1 AND audit_head.last_id < new_entry.id
      RETURNING audit_head.last_id"""


    def conn():
        global _conn
        if _conn is None or _conn.closed:
            _conn = psycopg.connect(DSN)
        _conn.autocommit = True  # the pool's pre-ping, as the project's engine does it
        _conn.execute("SELECT 1")
        _conn.autocommit = False
        return _conn


    def _json(value):
        return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


    @app.post("/work-logs")
    def create():
        token = request.headers.get("Authorization", "").partition(" ")[2]
        data = request.get_json()
        c = conn()
        with c.cursor() as cur:
            cur.execute(TOKEN, {"h": hashlib.sha256(token.encode()).hexdigest()})
            t = cur.fetchone()
            if t is None or t[2] is not None or not t[5] or "work_log.write" not in t[6]:
                return jsonify(code="unauthorized"), 401
            cur.execute(ENGAGEMENT, {"e": data["engagement_id"], "s": data["staff_id"],
                                     "a": t[7]})
            e = cur.fetchone()
            day, hours = date.fromisoformat(data["work_date"]), Decimal(data["hours"])
            if e is None or e[3] != "APPROVED" or e[4] is not None \\
                    or not e[5] <= day <= e[6] or not 0 < hours <= 24:
                c.rollback()
                return jsonify(code="validation_error"), 422
            now = datetime.now(timezone.utc).replace(tzinfo=None)
            cur.execute(INSERT, {"e": e[0], "a": e[1], "o": e[2], "s": e[7], "d": day,
                                 "h": hours, "act": "DESK_REVIEW",
                                 "loc": data.get("location", ""), "n": data.get("notes", ""),
                                 "u": t[3], "now": now})
            row = cur.fetchone()
            if row is None:
                c.rollback()
                return jsonify(code="validation_error"), 422
            after = _json({
                "id": row[0], "engagement_id": row[1], "agency_id": row[2],
                "org_unit_id": row[3], "staff_id": row[4], "work_date": row[5].isoformat(),
                "hours": format(row[6], "f"), "activity": "desk_review", "location": row[8],
                "notes": row[9], "submitted_at": None, "created_by_id": row[11],
                "created_at": row[12].isoformat(), "updated_at": row[13].isoformat()})
            at = now.replace(microsecond=0)
            cur.execute(AUDIT, {
                "at": at, "u": t[3], "un": t[4], "oid": str(row[0]), "after": after,
                "h1": '{"action":"create","after":' + after + ',"at":"' + at.isoformat()
                      + '","before":null,"id":',
                "h2": ',"object_id":"' + str(row[0]) + '","object_type":"work_log","prev_hash":"',
                "h3": '","user_id":' + str(t[3]) + ',"username":' + _json(t[4]) + "}"})
            cur.fetchone()
        c.commit()
        return jsonify(id=row[0], engagement_id=row[1], staff_id=row[4],
                       work_date=row[5].isoformat(), hours=format(row[6], "f"),
                       activity="desk_review", location=row[8], notes=row[9],
                       submitted=False, created_at=row[12].isoformat() + "Z"), 201
''')

#: the project's statements for one post, which this side sends too (``worklog_post_calls``)
STATEMENTS = 4
