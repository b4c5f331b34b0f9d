"""Scoring a whole year's self-evaluations at once (``flask jixiao evaluation score``).

A district year is 20,000 sheets and 200,000 indicators, so this pass reads
and writes at the speed of the driver (``core.services.bulk``): the year's evaluations
and lines as plain rows, then per batch of ``BATCH`` evaluations one audited
``executemany`` of score and grade that checks and bumps each evaluation's
``version`` (an evaluation changed or finalized meanwhile fails the run).

Each sheet is scored straight from its rows by ``RowScorer`` with the very
functions that give the points of the methods themselves
(``core.services.scoring.proportional_points``, ``reverse_points``,
``sheet.equal_points``, ``sheet.execution_points``, the qualitative band) and
the rule version's rounding and grade bands. Anything the rows do not give as
plain, valid numbers and names — a comma or a unit in a value, a missing
actual, a weight that breaks the rule version, a method another plugin
provides — is scored by ``sheet.score_sheet(service.sheet_data(…))`` itself,
the stateless API's code, which gives the same figures or names every problem.
The tests compare both on random sheets.

The pass keeps no ``ScoreRecord`` per draft: a draft's trace is recomputed from
its lines whenever its page shows it, and score and grade of every evaluation
are in the audit log's digest entry of the batch. A trace is kept when a person
saves actual values and when the evaluation is finalized.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from itertools import groupby
from operator import itemgetter
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm.exc import StaleDataError

from core.extensions import db
from core.models import FiscalYear, utcnow
from core.services.bulk import driver_rows, driver_update, exact
from core.services.scoring import (
    CONTEXT,
    HUNDRED,
    Problem,
    ScoringError,
    ScoringRules,
    find_method,
    hook_resolver,
    proportional_points,
    reverse_points,
)
from plugins.evaluation.models import SelfEvaluation, SelfEvaluationLine
from plugins.evaluation.rules import find_rules
from plugins.evaluation.service import sheet_data
from plugins.evaluation.sheet import (
    COMPARATORS,
    DEFAULT_METHODS,
    EXECUTION,
    GRADE_SCALE,
    SheetError,
    equal,
    equal_points,
    execution_points,
    score_sheet,
)

BATCH = 2000
_ev, _line = SelfEvaluation.__table__, SelfEvaluationLine.__table__
#: the columns read, in this order
EV_COLUMNS = ("id", "rule_code", "budget", "spent", "execution_weight", "version")
LINE_COLUMNS = ("evaluation_id", "level1", "level2", "name", "comparator", "target_value",
                "unit", "weight", "method", "actual", "grade", "ratio")
#: score and grade of one evaluation, if its version is still the one read (then bumped)
SCORE_UPDATE = update(_ev).where(_ev.c.id == bindparam("b_id"),
                                 _ev.c.version == bindparam("b_version"),
                                 _ev.c.finalized_at.is_(None)).values(
    score=bindparam("score"), grade=bindparam("grade"), version=_ev.c.version + 1)
#: the lines of an id range (an index range scan; those of other evaluations are skipped)
LINES = select(*[_line.c[k] for k in LINE_COLUMNS]).where(
    _line.c.evaluation_id.between(bindparam("lo"), bindparam("hi"))).order_by(
    _line.c.evaluation_id, _line.c.position)
QUALITATIVE, RANGE = "qualitative", "range"
_EV, _NAME, _PATH = itemgetter(0), itemgetter(3), itemgetter(1, 2, 3)  # of a line row
_END = (None, ())
#: the numeric methods scored from the rows, and the method each belongs to
POINTS = {"proportional": proportional_points, "reverse": reverse_points,
          "equal": equal_points}

Failures = list[tuple[int, list[Problem]]]


def score_year(year: int) -> tuple[int, Failures]:
    """Score every unfinalized self-evaluation of ``year`` with an amount spent.

    Returns (scored, [(id, problems)]): a sheet with a problem keeps its old
    score and is reported with every problem named.
    """
    fy_id = db.session.scalar(select(FiscalYear.id).where(FiscalYear.year == year))
    evs = driver_rows(db.session, select(*[_ev.c[k] for k in EV_COLUMNS]).where(
        _ev.c.fiscal_year_id == fy_id, _ev.c.finalized_at.is_(None),
        _ev.c.spent.is_not(None)).order_by(_ev.c.id))
    scorer = RowScorer(hook_resolver(current_app))
    now = utcnow()
    write = SCORE_UPDATE.values(scored_at=now, updated_at=now)
    scored, failed = 0, []
    for i in range(0, len(evs), BATCH):
        done, problems = _score_batch(year, evs[i:i + BATCH], scorer, write)
        scored += done
        failed += problems
    return scored, failed


def _score_batch(year: int, evs: list[tuple], scorer: RowScorer,
                 write: Any) -> tuple[int, Failures]:
    """Score ``evs`` (rows of ``EV_COLUMNS``, by id) and write their scores with ``write``
    (``SCORE_UPDATE`` with its time stamps)."""
    lines = driver_rows(db.session, LINES, {"lo": evs[0][0], "hi": evs[-1][0]})
    groups = groupby(lines, key=_EV)
    key, group = next(groups, _END)
    updates, failed = [], []
    with decimal.localcontext(CONTEXT):
        for ev in evs:  # both in id order
            ev_id = ev[0]
            while key is not None and key < ev_id:
                key, group = next(groups, _END)
            found = scorer.score(ev, list(group) if key == ev_id else [])
            if type(found) is list:
                failed.append((ev_id, found))
                continue
            updates.append({"b_id": ev_id, "b_version": ev[5], "score": str(found[0]),
                            "grade": found[1]})
    if updates:
        changed = driver_update(db.session, write, updates,
                                batch=f"evaluation score {year}: ids {evs[0][0]}–{evs[-1][0]}")
        if changed != len(updates):  # an evaluation was changed or finalized meanwhile
            raise StaleDataError(f"{len(updates) - changed} self-evaluations of {year} "
                                 "changed while they were scored; score the year again")
    return len(updates), failed


class RowScorer:
    """Scores saved sheets from their rows; what the rows don't give plainly goes to
    ``score_sheet``. One per run (the plugins' methods are asked once)."""

    def __init__(self, resolver: Callable[[str], Any]) -> None:
        self.resolver = resolver
        self.rules: dict[str | None, _Rules | None] = {}
        # (comparator, method) as stored → the points function, or QUALITATIVE
        own = {"proportional": True, "reverse": True,
               "equal": find_method("equal", resolver) is equal}
        self.kinds: dict[tuple[Any, Any], Any] = {}
        for spelling, code in COMPARATORS.items():
            default = DEFAULT_METHODS[code]
            if code == RANGE:
                continue  # "low-high" targets: score_sheet reads them
            if code == QUALITATIVE:
                for method in (None, "", default):
                    self.kinds[spelling, method] = QUALITATIVE
                continue
            for method in (None, "", *POINTS):
                name = method or default
                if own.get(name):
                    self.kinds[spelling, method] = POINTS[name]
        self.names: set[str] = set()  # names already seen to be plain (as score_sheet keeps them)
        self.weights: dict[Any, Decimal] = {}  # stored weight → checked Decimal
        self.targets: dict[str, Decimal] = {}  # target text → its number

    def score(self, ev: tuple, lines: list[tuple]) -> tuple[Decimal, str] | list[Problem]:
        """(score, grade), or the problems that refuse the sheet."""
        found = None
        rules = self._rules(ev[1])
        if rules is not None and lines:
            try:
                found = self._from_rows(ev, lines, rules)
            except (ArithmeticError, AttributeError, TypeError, ValueError):
                found = None
        if found is not None:
            return found
        return self._by_sheet(ev, lines)

    def _rules(self, code: str | None) -> _Rules | None:
        if code not in self.rules:
            try:
                self.rules[code] = _Rules(find_rules(code or None))
            except ScoringError:
                self.rules[code] = None
        return self.rules[code]

    def _from_rows(self, ev: tuple, lines: list[tuple], r: _Rules) -> tuple[Decimal, str] | None:
        quantum, rounding, levels = r.quantum, r.rounding, r.levels
        names, weights, targets, kinds = self.names, self.weights, self.targets, self.kinds
        w = weights.get(ev[4]) or self._weight(ev[4], r)
        points = execution_points(w, exact(ev[2]), exact(ev[3]))
        if points is None:
            return None
        total = points.quantize(quantum, rounding)
        weight_sum = w
        for (_e, l1, l2, name, comparator, target, unit, weight, method, actual, grade,
             ratio) in lines:
            if l1 not in names or l2 not in names or name not in names:
                if not (self._name(l1) and self._name(l2) and self._name(name)):
                    return None
            w = weights.get(weight) or self._weight(weight, r)
            kind = kinds.get((comparator, method))
            if kind is None:
                return None
            if kind is QUALITATIVE:
                level = levels.get(grade)
                if level is None:
                    return None
                if ratio is None:
                    pct = level.default
                else:
                    pct = exact(ratio) * HUNDRED
                    if not level.lower <= pct <= level.upper:
                        return None
                p = w * pct / HUNDRED
            else:
                if unit and (actual.endswith(unit) or target.endswith(unit)):
                    return None  # score_sheet takes the unit off
                t = targets.get(target)
                if t is None:
                    t = self._target(target)
                a = Decimal(actual)
                if not a.is_finite():
                    return None
                p = kind(w, t, a)
                if p is None:
                    return None
            total += p.quantize(quantum, rounding)  # within 0–weight by each formula
            weight_sum += w
        if weight_sum != r.total_weight:
            return None
        if len(set(map(_NAME, lines))) != len(lines) \
                and len(set(map(_PATH, lines))) != len(lines):
            return None  # an indicator twice: score_sheet says which
        grade = r.grades.get(total)
        if grade is None:
            grade = r.grades[total] = r.rules.grade(total).code
        return total, grade

    def _name(self, value: Any) -> bool:
        """Plain text as ``score_sheet`` keeps it (no blanks around, no path separator)."""
        if type(value) is not str or not value or value.strip() != value or "/" in value \
                or value == EXECUTION:
            return False
        self.names.add(value)
        return True

    def _weight(self, value: Any, r: _Rules) -> Decimal:
        """A stored weight, refused (ValueError) unless positive with the version's places."""
        w = exact(value)
        if w is None or not w > 0 or w != w.quantize(r.quantum, r.rounding):
            raise ValueError(value)
        if len(self.weights) > 10_000:
            self.weights.clear()
        self.weights[value] = w
        return w

    def _target(self, text: str) -> Decimal:
        t = Decimal(text)
        if not t.is_finite():
            raise InvalidOperation(text)
        if len(self.targets) > 10_000:
            self.targets.clear()
        self.targets[text] = t
        return t

    def _by_sheet(self, ev: tuple, lines: list[tuple]) -> tuple[Decimal, str] | list[Problem]:
        """The stateless API's path: every problem named (``indicators.2.actual``)."""
        try:
            rules = find_rules(ev[1] or None)
            result = score_sheet(sheet_of_rows(ev, lines), rules, self.resolver)
        except (ScoringError, SheetError) as exc:
            return exc.problems
        return result.score, result.grade


def sheet_of_rows(ev: tuple, lines: list[tuple]) -> dict[str, Any]:
    """The stateless API's input (``service.sheet_data``) for rows of ``EV_COLUMNS`` and
    ``LINE_COLUMNS`` as the driver gives them."""
    ev_row = _Row(zip(EV_COLUMNS, ev, strict=True))
    for key in ("budget", "spent", "execution_weight"):
        ev_row[key] = exact(ev_row[key])
    line_rows = []
    for line in lines:
        row = _Row(zip(LINE_COLUMNS, line, strict=True))
        row["weight"], row["ratio"] = exact(row["weight"]), exact(row["ratio"])
        line_rows.append(row)
    return sheet_data(ev_row, line_rows)


class _Rules:
    """What the row path reads of a rule version, once per run."""

    def __init__(self, rules: ScoringRules) -> None:
        self.rules = rules
        self.quantum = Decimal(1).scaleb(-rules.places)
        self.rounding = rules.rounding
        self.total_weight = rules.total_weight
        self.levels = rules.levels(GRADE_SCALE)
        self.grades: dict[Decimal, str] = {}


class _Row(dict):
    """A row read by name (``row.weight``), as ``service.sheet_data`` reads it."""

    __getattr__ = dict.__getitem__
