"""The numbers: time elapsed, execution rate, indicator deviations, light thresholds."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from plugins.monitoring import figures as rules
from plugins.monitoring.models import Light

LIMITS = rules.Thresholds(D(10), D(20), D(10), D(30))


def test_time_elapsed_and_execution_rate():
    assert rules.expected_rate(date(2026, 1, 1), date(2026, 7, 31)) == D("58.08")
    assert rules.expected_rate(date(2024, 1, 1), date(2024, 12, 31)) == D("100.00")
    assert rules.execution_rate(D("500.00"), D("1000.00")) == D("50.00")
    assert rules.execution_rate(D("1.00"), D("0.00")) is None


@pytest.mark.parametrize(("comparator", "target", "unit", "achieved", "forecast", "expected"), [
    # a count follows the time path: 10 × 50 % = 5 expected by now
    ("ge", "10", "个", "5", "10", (D("0.00"), D("0.00"))),
    ("ge", "10", "个", "4", "8", (D("20.00"), D("20.00"))),
    # a rate is expected at its target level all year
    ("ge", "95", "%", "90.25", "95", (D("5.00"), D("0.00"))),
    # lower is better: above the ceiling is the shortfall
    ("le", "100", "万元", "110", "120", (D("10.00"), D("20.00"))),
    ("range", "90-100", "%", "95", "105", (D("0.00"), D("5.00"))),
    ("qualitative", "明显提升", None, "推进中", "达到", (None, None)),
    ("ge", "0", "个", "1", "1", (None, None)),
])
def test_indicator_deviations(comparator, target, unit, achieved, forecast, expected):
    assert rules.deviations(comparator, target, unit, rules.number(achieved),
                            rules.number(forecast), D(50)) == expected


@pytest.mark.parametrize(("spend", "ind", "missed", "reported", "light"), [
    (D(0), D(0), False, False, Light.PENDING),
    (D(-5), None, False, True, Light.GREEN),
    (D("9.99"), D("9.99"), False, True, Light.GREEN),
    (D(10), D(0), False, True, Light.YELLOW),
    (D(0), D(10), False, True, Light.YELLOW),
    (D(20), D(0), False, True, Light.RED),
    (D(0), D(30), False, True, Light.RED),
    (D(0), D(0), True, True, Light.RED),
])
def test_light_thresholds(spend, ind, missed, reported, light):
    assert rules.light_for(spend, ind, missed, reported, LIMITS) == light


def test_thresholds_are_configurable(make_app):
    app = make_app(MONITORING_LIGHTS={"spending_yellow": "5", "spending_red": "15"})
    with app.app_context():
        limits = rules.thresholds()
    assert (limits.spending_yellow, limits.spending_red, limits.indicator_red) == \
        (D(5), D(15), D(30))
