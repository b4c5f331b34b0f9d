"""The numbers of monitoring: time elapsed, execution rate, deviations and light thresholds.

- Expected execution (时间进度) = days from the round's start to its cut-off
  (inclusive) / days of the year; 1 January – 31 July is 212 / 365 = 58.08 %.
- Execution rate (预算执行率) = spent / budget; the spending deviation is
  expected − execution, in percentage points (positive: behind the time path).
- An indicator's progress deviation is the shortfall of the value achieved so
  far against its expected path: the target × the time elapsed for a count or
  amount, the target itself for a rate (unit ``%``) and for a "lower is
  better" (``le``) indicator. Its forecast deviation is the shortfall of the
  year-end forecast against the target; above 0, or a likelihood
  "impossible", means the target will be missed.
- Lights (``MONITORING_LIGHTS``, configurable): red when the spending or the
  indicator deviation reaches its red threshold or a target will be missed;
  yellow from the yellow thresholds; green otherwise; not reported (grey) while
  no spending was entered. The set-based computation is in ``service.refresh_lights``.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from flask import current_app

HUNDRED = Decimal(100)
CENT = Decimal("0.01")
DEFAULT_LIGHTS = {"spending_yellow": "10", "spending_red": "20",
                  "indicator_yellow": "10", "indicator_red": "30"}


@dataclass(frozen=True)
class Thresholds:
    spending_yellow: Decimal
    spending_red: Decimal
    indicator_yellow: Decimal
    indicator_red: Decimal


def thresholds() -> Thresholds:
    raw = {**DEFAULT_LIGHTS, **(current_app.config.get("MONITORING_LIGHTS") or {})}
    return Thresholds(**{k: Decimal(str(raw[k])) for k in DEFAULT_LIGHTS})


def pct(value: Decimal) -> Decimal:
    return value.quantize(CENT)


def expected_rate(period_start: date, cutoff: date) -> Decimal:
    """Time elapsed from ``period_start`` to ``cutoff`` as a percentage of the year."""
    days = (cutoff - period_start).days + 1
    year_days = 366 if calendar.isleap(cutoff.year) else 365
    return pct(min(Decimal(days) * HUNDRED / year_days, HUNDRED))


def execution_rate(spent: Decimal, budget: Decimal) -> Decimal | None:
    if not budget:
        return None
    return pct(spent * HUNDRED / budget)


def number(text: str | None) -> Decimal | None:
    """A decimal number written as text, or None."""
    try:
        value = Decimal(str(text).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None


def _bounds(comparator: str, target: str) -> tuple[Decimal, Decimal] | None:
    if comparator == "range":
        low, _sep, high = target.partition("-")
        lo, hi = number(low), number(high)
        return (lo, hi) if lo is not None and hi is not None else None
    value = number(target)
    return (value, value) if value is not None else None


def _shortfall(gap: Decimal, base: Decimal) -> Decimal:
    return pct(max(gap, Decimal(0)) * HUNDRED / base)


def deviations(comparator: str, target: str, unit: str | None, achieved: Decimal | None,
               forecast: Decimal | None, share: Decimal) -> tuple[Decimal | None, Decimal | None]:
    """(progress deviation, forecast deviation) in percent; None where it cannot be computed
    (a qualitative indicator, a target of 0, a value not given)."""
    bounds = _bounds(comparator, target) if comparator != "qualitative" else None
    if bounds is None or not bounds[0] or not bounds[1]:
        return None, None
    low, high = bounds
    progress = fore = None
    if comparator == "le":
        if achieved is not None:
            progress = _shortfall(achieved - high, high)
        if forecast is not None:
            fore = _shortfall(forecast - high, high)
        return progress, fore
    if achieved is not None:
        path = low if unit == "%" else low * share / HUNDRED
        progress = _shortfall(path - achieved, path) if path else None
    if forecast is not None:
        fore = _shortfall(low - forecast, low)
        if comparator in ("eq", "range"):
            fore = max(fore, _shortfall(forecast - high, high))
    return progress, fore


def light_for(spending_deviation: Decimal | None, indicator_deviation: Decimal | None,
              missed: bool, reported: bool, limits: Thresholds) -> int:
    """The light of one record (the same rule as the set-based ``service.refresh_lights``)."""
    from plugins.monitoring.models import Light

    if not reported:
        return Light.PENDING
    spend = spending_deviation or Decimal(0)
    ind = indicator_deviation or Decimal(0)
    if missed or spend >= limits.spending_red or ind >= limits.indicator_red:
        return Light.RED
    if spend >= limits.spending_yellow or ind >= limits.indicator_yellow:
        return Light.YELLOW
    return Light.GREEN
