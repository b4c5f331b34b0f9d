"""The plugin's kernels give exactly what its methods give, or leave the case to them."""

from __future__ import annotations

import decimal
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from core.services.scoring import CONTEXT, SELF_EVALUATION_2020, MethodCall, ScoringError
from plugins.evaluation.sheet import METHODS

R = SELF_EVALUATION_2020
weights = st.decimals(min_value=D("0.01"), max_value=D(100), places=2)
amounts = st.decimals(min_value=D(-10) ** 6, max_value=D(10) ** 9, places=4)
texts = st.one_of(amounts.map(lambda d: format(d, "f")),
                  st.sampled_from(["0", "-1", "1E+2", " 7 ", "abc", "NaN", "", "1_000",
                                   "0.0000"]),
                  st.none(), st.integers(-5, 5))


def _both(method, weight, inputs):
    """(kernel's, method's) rounded points and formula; the method's is None if it refuses."""
    with decimal.localcontext(CONTEXT):
        fast = METHODS[method].kernel(weight, inputs, R)
        try:
            slow = METHODS[method](MethodCall(weight, inputs, {}, R))
        except ScoringError:
            slow = None
    fast = None if fast is None else (R.quantize(fast[0]), fast[1])
    return fast, None if slow is None else (R.quantize(slow.points), slow.formula)


@settings(max_examples=300, deadline=None)
@given(weight=weights, budget=texts, spent=texts)
def test_the_budget_execution_kernel_matches_its_method(weight, budget, spent):
    fast, slow = _both("budget_execution", weight, {"budget": budget, "spent": spent})
    assert fast is None or fast == slow  # a refused input is never scored by the kernel


@settings(max_examples=300, deadline=None)
@given(weight=weights, target=texts, actual=texts)
def test_the_equal_kernel_matches_its_method(weight, target, actual):
    fast, slow = _both("equal", weight, {"target": target, "actual": actual})
    assert fast is None or fast == slow
