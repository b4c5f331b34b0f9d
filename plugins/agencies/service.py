"""Engagement review and closing, and the rules of a work log (shared by portal and API)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, select, update

from core.extensions import db
from core.models import State, utcnow
from core.permissions import ADMINS, FINANCE
from core.scope import scoped_statement
from core.services.bulk import insert_row
from core.workflow import Workflow, WorkflowError
from plugins.agencies.hookspecs import engagement_closed
from plugins.agencies.models import Activity, AgencyStaff, Engagement, WorkLog, engagement_staff
from plugins.agencies.party import party_rows
from plugins.agencies.rules import approval_problems

WORKFLOW = Workflow("engagement", FINANCE, submitters=ADMINS)
EDITABLE = {State.DRAFT, State.RETURNED}
STATUS_LABELS = {"draft": _l("Draft"), "submitted": _l("Submitted"),
                 "returned": _l("Returned for revision"), "approved": _l("In progress"),
                 "closed": _l("Closed")}


class EngagementError(ValueError):
    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def status_of(eng: Engagement) -> str:
    """draft, submitted, returned, approved (in progress) or closed."""
    return "closed" if eng.closed_at else State(eng.state or State.DRAFT).value


def party_name(eng: Engagement) -> str:
    """The commissioning party's name: shown to the agency too (whose scope has no org units)."""
    from core.models import OrgUnit

    with party_rows() as session:
        return session.scalar(select(OrgUnit.name).where(OrgUnit.id == eng.org_unit_id)) or ""


def transition(eng: Engagement, action: str, user, comment: str = "") -> None:
    """A workflow step; approval is refused while budget-first or a conflict stands."""
    if eng.closed_at is not None:
        raise EngagementError([_("This engagement is closed.")])
    if action == "submit":
        problems = []
        if not eng.items:
            problems.append(_("Link at least one budget item."))
        if not eng.team:
            problems.append(_("Name at least one team member."))
        if problems:
            raise EngagementError(problems)
    if action == "approve":
        problems = approval_problems(eng)
        if problems:
            raise EngagementError(problems)
    try:
        WORKFLOW.transition(eng, action, user, comment)
    except WorkflowError as exc:
        raise EngagementError([str(exc)]) from None


def close(eng: Engagement, user) -> None:
    """Close an approved engagement: no more work logs; ``jixiao_engagement_closed`` is called."""
    if eng.closed_at is not None:
        raise EngagementError([_("This engagement is closed.")])
    if State(eng.state or State.DRAFT) != State.APPROVED:
        raise EngagementError([_("Only an approved engagement can be closed.")])
    eng.closed_at = utcnow()
    eng.closed_by_id = getattr(user, "id", None)
    db.session.flush()
    from plugins.agencies.contracts import view_of

    engagement_closed(view_of(eng))


# --- work logs ----------------------------------------------------------------------------

@dataclass
class LogInput:
    staff_id: int | None
    work_date: date | None
    hours: Decimal | None
    activity: Activity | None
    location: str = ""
    notes: str = ""
    errors: dict[str, list[str]] = field(default_factory=dict)

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)


def parse_log(raw: dict) -> LogInput:
    """Turn form or JSON values into a LogInput; type errors are collected, by field."""
    data = LogInput(None, None, None, None, str(raw.get("location") or "").strip()[:200],
                    str(raw.get("notes") or "").strip())
    staff = raw.get("staff_id")
    try:
        data.staff_id = int(staff) if staff not in (None, "") else None
    except (TypeError, ValueError):
        data.error("staff_id", _("Choose a staff member."))
    if data.staff_id is None and "staff_id" not in data.errors:
        data.error("staff_id", _("Choose a staff member."))
    day = raw.get("work_date")
    if isinstance(day, date):
        data.work_date = day
    else:
        try:
            data.work_date = date.fromisoformat(str(day or ""))
        except ValueError:
            data.error("work_date", _("Work date: enter a date as YYYY-MM-DD."))
    hours = raw.get("hours")
    if isinstance(hours, float):
        data.error("hours", _("Hours: send the number as a string, not a float."))
    else:
        try:
            data.hours = Decimal(str(hours).strip())
            if not data.hours.is_finite() or data.hours.as_tuple().exponent < -2:
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            data.hours = None
            data.error("hours", _("Hours: enter a number with at most two decimal places."))
    try:
        data.activity = Activity(raw.get("activity"))
    except ValueError:
        data.error("activity", _("Choose an activity type."))
    return data


def check_log(eng, data: LogInput, exclude_id: int | None = None) -> None:
    """The rules of a log; problems are added to ``data.errors`` (nothing is written).

    ``eng``: an ``Engagement`` or the row of ``engagement_for_log``."""
    if _check_rules(eng, data):
        _check_day(data, exclude_id)


def _check_rules(eng, data: LogInput) -> bool:
    """Every rule but the person's total for the day, which is left to check (True) when
    the person is on the team and the date and hours are valid. The person's row is
    locked on the way (``_on_team``), so a total read after this stays true."""
    if eng.closed_at is not None:
        data.error("engagement", _("This engagement is closed; no more work can be logged."))
        return False
    if State(eng.state or State.DRAFT) != State.APPROVED:
        data.error("engagement", _("Work can be logged only once the engagement is approved."))
        return False
    if data.work_date is not None and not (eng.start_on <= data.work_date <= eng.end_on):
        data.error("work_date", _("Work date: %(day)s is outside the engagement's dates "
                                  "%(start)s to %(end)s.", day=data.work_date,
                                  start=eng.start_on, end=eng.end_on))
    on_team = data.staff_id is not None and _on_team(eng, data.staff_id)
    if data.staff_id is not None and not on_team:
        data.error("staff_id", _("Staff member: this person is not on the engagement's team."))
    if data.hours is None:
        return False
    limit = day_limit()
    if data.hours <= 0:
        data.error("hours", _("Hours: must be more than 0."))
    elif data.hours > limit:
        data.error("hours", _("Hours: at most %(limit)s hours a day.", limit=limit))
    return on_team and data.work_date is not None and data.hours > 0 and data.hours <= limit


def _check_day(data: LogInput, exclude_id: int | None) -> None:
    """The person's hours on the day, with this log, stay within the daily limit."""
    limit = day_limit()
    logged = Decimal(db.session.connection().execute(_DAY_HOURS, {
        "staff_id": data.staff_id, "day": data.work_date, "exclude_id": exclude_id or 0}
    ).scalar())
    if logged + data.hours > limit:
        data.error("hours", _("Hours: this person already has %(logged)s hours logged "
                              "on %(day)s; the day cannot exceed %(limit)s hours.",
                              logged=logged, day=data.work_date, limit=limit))


def day_limit() -> Decimal:
    return Decimal(current_app.config["AGENCY_MAX_HOURS_PER_DAY"])


_staff_t, _log_t = AgencyStaff.__table__, WorkLog.__table__
#: lock the person's row, if they are on the engagement's team (Core statements built once,
#: read outside the row scope: the engagement was read through it)
_LOCK_STAFF = (select(_staff_t.c.id)
               .join(engagement_staff, engagement_staff.c.staff_id == _staff_t.c.id)
               .where(_staff_t.c.id == bindparam("staff_id"),
                      engagement_staff.c.engagement_id == bindparam("engagement_id"))
               .with_for_update(of=_staff_t))
_SQLITE_LOCK = (update(_staff_t).where(_staff_t.c.id == bindparam("staff_id"))
                .values(id=_staff_t.c.id, updated_at=_staff_t.c.updated_at))
#: the hours the person has logged on the day (ids start at 1: ``exclude_id`` 0 excludes none)
_DAY_HOURS = select(func.coalesce(func.sum(_log_t.c.hours), 0)).where(
    _log_t.c.staff_id == bindparam("staff_id"), _log_t.c.work_date == bindparam("day"),
    _log_t.c.id != bindparam("exclude_id"))


def engagement_for_log(engagement_id: int, staff_id: int | None = None):
    """What the rules of a new log need of the engagement (id, agency, org unit, state,
    dates, closed), read through the row scope by a Core statement; None when it does
    not exist or the caller may not see it.

    With ``staff_id`` of a person on its team, the same statement locks the person's row
    (``_on_team`` then needs no statement of its own for it): the row's ``locked_staff_id``.
    """
    connection = db.session.connection()
    if staff_id is not None:
        if connection.dialect.name == "sqlite":
            connection.execute(_SQLITE_LOCK, {"staff_id": staff_id})
        found = connection.execute(scoped_statement(_engagement_and_lock, Engagement),
                                   {"engagement_id": engagement_id, "staff_id": staff_id}).first()
        if found is not None:
            return found
    return connection.execute(scoped_statement(_engagement, Engagement),
                              {"engagement_id": engagement_id}).first()


_eng_t = Engagement.__table__
_ENG_COLUMNS = (_eng_t.c.id, _eng_t.c.agency_id, _eng_t.c.org_unit_id, _eng_t.c.state,
                _eng_t.c.closed_at, _eng_t.c.start_on, _eng_t.c.end_on)


def _engagement(criteria):
    return select(*_ENG_COLUMNS).where(_eng_t.c.id == bindparam("engagement_id"), *criteria)


def _engagement_and_lock(criteria):
    return (select(*_ENG_COLUMNS, _staff_t.c.id.label("locked_staff_id"))
            .join(engagement_staff, engagement_staff.c.engagement_id == _eng_t.c.id)
            .join(_staff_t, _staff_t.c.id == engagement_staff.c.staff_id)
            .where(_eng_t.c.id == bindparam("engagement_id"),
                   _staff_t.c.id == bindparam("staff_id"), *criteria)
            .with_for_update(of=_staff_t))


def _on_team(eng, staff_id: int) -> bool:
    """Is the person on the team? Their row is locked (until the transaction ends), so
    the day's total is read after any concurrent log of theirs is committed: under READ
    COMMITTED a statement sees what was committed when it began, so a total read by the
    statement that waited for the lock would miss the log it waited for, and two
    concurrent logs could together pass the daily limit."""
    if getattr(eng, "locked_staff_id", None) == staff_id:
        return True  # locked by the statement that read the engagement
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        # no row locks: a write takes the database's write lock for the transaction
        connection.execute(_SQLITE_LOCK, {"staff_id": staff_id})
    return connection.execute(
        _LOCK_STAFF, {"staff_id": staff_id, "engagement_id": eng.id}).first() is not None


#: the INSERT's own check of the day's total (``core.services.bulk.insert_row``'s ``where``): a
#: new statement, so it sees every log committed before the person's row was locked
#: (rounded to the hours' 2 places: SQLite adds them as floats, 10.63 + 11.5 + 1.87 > 24)
_WITHIN_DAY = func.round(_DAY_HOURS.scalar_subquery()
                         + bindparam("hours", type_=_log_t.c.hours.type), 2) \
    <= bindparam("day_limit", type_=_log_t.c.hours.type)


def add_log(eng, data: LogInput, user, submit: bool = False):
    """Check a new log and write it (one Core INSERT and its audit entry,
    ``core.services.bulk.insert_row``): the stored row (the ``WorkLog`` columns as attributes;
    no ORM instance), or None with the problems in ``data.errors`` and nothing written.
    The day's total is checked by the INSERT itself (one statement less for every log),
    and read only to say why it was refused."""
    day_to_check = _check_rules(eng, data)
    if data.errors:
        if day_to_check:  # every problem at once
            _check_day(data, None)
        return None
    row = insert_row(db.session, WorkLog, {
        "engagement_id": eng.id, "agency_id": eng.agency_id, "org_unit_id": eng.org_unit_id,
        "staff_id": data.staff_id, "work_date": data.work_date, "hours": data.hours,
        "activity": data.activity, "location": data.location, "notes": data.notes,
        "created_by_id": user.id, "submitted_at": utcnow() if submit else None,
    }, where=_WITHIN_DAY, params={"day": data.work_date, "exclude_id": 0,
                                  "day_limit": day_limit()})
    if row is None:
        _check_day(data, None)
    return row


def edit_problem(log: WorkLog, user) -> str | None:
    """Why ``user`` may not change this log now (None: they may)."""
    if log.created_by_id != user.id:
        return _("Only the person who logged this work may change it.")
    if log.engagement.closed_at is not None:
        return _("This engagement is closed; no more work can be logged.")
    days = int(current_app.config["AGENCY_WORKLOG_EDIT_DAYS"])
    if log.created_at and utcnow() - log.created_at > timedelta(days=days):
        return _("A work log can be changed only within %(days)s days of being logged.",
                 days=days)
    return None


def delete_problem(log: WorkLog, user) -> str | None:
    problem = edit_problem(log, user)
    if problem is None and log.submitted_at is not None:
        problem = _("Only drafts can be deleted; this log was submitted.")
    return problem


def apply_log(log: WorkLog, data: LogInput) -> None:
    log.staff_id, log.work_date, log.hours = data.staff_id, data.work_date, data.hours
    log.activity, log.location, log.notes = data.activity, data.location, data.notes


def delete_log(log: WorkLog) -> None:
    """Delete a log and the files attached to it."""
    from core.models import Attachment

    with party_rows() as session:
        for attachment in session.scalars(select(Attachment).where(
                Attachment.object_type == "work_log", Attachment.object_id == log.id)):
            session.delete(attachment)
    db.session.delete(log)
