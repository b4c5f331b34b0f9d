"""A sheet's shape checked once, then scored for many sets of inputs (the batch path).

``SheetPlan.make(tree, rules, resolver)`` checks an indicator tree's structure —
names, weights, methods (``core.scoring.check_sheet``) — once, and lays it out
flat. ``plan.score(inputs)`` then scores one set of leaf inputs (in tree order)
with the methods' kernels and gives a trace equal to what ``core.scoring.score``
gives for the same tree and inputs: the same points, formulas, total, grade and
JSON. It gives None for anything the kernels leave to their methods (a bad
input, an out-of-range result); the caller then scores with ``score`` itself,
which also names every problem. ``make`` gives None for a sheet it cannot
plan (a problem in the structure, a method without a kernel, params, a lone
leaf): again ``score`` does the work.

So the batch path and ``score`` cannot disagree without a test noticing: the
tests compare both on random sheets, and every stored trace recomputes through
the methods alone, kernels off (``ScoreTrace.reproduces``).
"""

from __future__ import annotations

import decimal
from collections.abc import Mapping, Sequence
from decimal import Decimal
from functools import cached_property
from typing import Any

from core.scoring import (
    CONTEXT,
    Indicator,
    NodeTrace,
    Resolver,
    ScoreTrace,
    ScoringError,
    ScoringRules,
    _dumps,
    _fmt,
    _js,
    _json_flat,
    _once,
    check_sheet,
    find_method,
    to_decimal,
    to_json_value,
)

ZERO = Decimal(0)


class SheetPlan:
    """One sheet shape under one rule version and resolver, laid out flat (pre-order)."""

    def __init__(self, rules: ScoringRules) -> None:
        self.rules = rules
        self.names: list[Any] = []
        self.weights: list[Decimal] = []
        self.children: list[list[int]] = []  # per node; empty for a leaf
        self.leaves: list[tuple[int, Any, Any]] = []  # (node, method name, kernel)
        self.post_order: list[int] = []  # the groups, children before parents
        self.segments: list[Any] = []  # JSON text: text, a weight, or a slot (below)
        #: the tree's JSON as a format string; per {}: a node's points (slot ≥ 0, the
        #: node) or a leaf's inputs, params and formula (slot < 0: leaf -1 - slot)
        self.template = ""
        self.slots: list[int] = []

    @classmethod
    def make(cls, tree: Indicator, rules: ScoringRules,
             resolver: Resolver | None = None) -> SheetPlan | None:
        if not tree.children or check_sheet(tree, rules, resolver):
            return None
        plan = cls(rules)
        resolve = _once(resolver)
        try:
            with decimal.localcontext(CONTEXT):  # the sums of weights as ``score`` makes them
                plan._add(tree, resolve)
        except _Unplannable:
            return None
        segments = _merged([_fmt(plan.weights[seg[1]]) if type(seg) is tuple else seg
                            for seg in plan.segments])
        # one format string: text with its braces doubled, a {} per slot
        plan.template = "".join(seg.replace("{", "{{").replace("}", "}}") if type(seg) is str
                                else "{}" for seg in segments)
        plan.slots = [seg for seg in segments if type(seg) is not str]
        return plan

    def _add(self, node: Indicator, resolve: Resolver | None) -> int:
        k = len(self.names)
        name = node.name
        self.names.append(name)
        self.weights.append(Decimal(0))
        self.children.append([])
        head = (f'{{"name":{_js(name) if type(name) is str else _dumps(name)},'
                f'"weight":"')
        if node.children:
            self.segments += [head, ("w", k), '","points":"', k, '","children":[']
            for n, child in enumerate(node.children):
                if n:
                    self.segments.append(",")
                self.children[k].append(self._add(child, resolve))
            self.segments.append("]}")
            self.weights[k] = sum((self.weights[c] for c in self.children[k]), Decimal(0))
            self.post_order.append(k)
            return k
        method = find_method(str(node.method), resolve)
        fast = getattr(method, "kernel", None)
        if fast is None or node.params:
            raise _Unplannable
        self.weights[k] = to_decimal(node.weight, "weight")
        method_js = _js(node.method) if type(node.method) is str else _dumps(node.method)
        self.segments += [head, ("w", k), '","points":"', k, f'","method":{method_js},"inputs":',
                          -1 - len(self.leaves), "}"]
        self.leaves.append((k, node.method, fast))
        return k

    def score(self, inputs: Sequence[Mapping[str, Any]]) -> PlannedTrace | None:
        """The trace for these leaf inputs (tree order), or None: then use ``score``."""
        rules, weights = self.rules, self.weights
        points: list[Decimal] = [Decimal(0)] * len(self.names)
        data, formulas = [], []
        try:
            with decimal.localcontext(CONTEXT):
                for (k, _name, fast), raw in zip(self.leaves, inputs, strict=True):
                    values = _json_form(raw)
                    found = fast(weights[k], values, rules)
                    if found is None or type(found[1]) is not str:
                        return None
                    p = rules.quantize(found[0])
                    if not 0 <= p <= weights[k]:
                        return None
                    points[k] = p
                    data.append(values)
                    formulas.append(found[1])
                children = self.children
                for g in self.post_order:
                    total = ZERO
                    for c in children[g]:
                        total += points[c]
                    points[g] = total
        except (ScoringError, ArithmeticError):
            return None
        return PlannedTrace(self, points, data, formulas)


def _json_form(raw: Mapping[str, Any]) -> dict[str, Any]:
    """``to_json_value(dict(raw))``, the usual flat dict of text and Decimals done inline."""
    out = {}
    for k, v in raw.items():
        kind = type(v)
        if type(k) is not str or (kind is not Decimal and kind is not str):
            return to_json_value(dict(raw), "inputs")
        out[k] = format(v, "f") if kind is Decimal else v
    return out


class _Unplannable(Exception):
    """A leaf only ``score`` can handle."""


def _merged(segments: list) -> list:
    """Adjacent pieces of text joined into one."""
    out: list = []
    for seg in segments:
        if type(seg) is str and out and type(out[-1]) is str:
            out[-1] += seg
        else:
            out.append(seg)
    return out


class PlannedTrace(ScoreTrace):
    """A trace scored by a plan; its node tree is built only when asked for."""

    def __init__(self, plan: SheetPlan, points: list[Decimal], data: list[dict[str, Any]],
                 formulas: list[str]) -> None:  # noqa: D107 - no dataclass __init__ here
        self.rules = plan.rules
        self._plan, self._points, self._data, self._formulas = plan, points, data, formulas

    @property
    def total(self) -> Decimal:
        return self._points[0]

    @cached_property
    def root(self) -> NodeTrace:  # type: ignore[override]
        plan = self._plan
        leaf_of = {k: i for i, (k, _m, _f) in enumerate(plan.leaves)}

        def build(k: int) -> NodeTrace:
            if plan.children[k]:
                return NodeTrace(plan.names[k], plan.weights[k], self._points[k],
                                 children=[build(c) for c in plan.children[k]])
            i = leaf_of[k]
            return NodeTrace(plan.names[k], plan.weights[k], self._points[k],
                             plan.leaves[i][1], self._data[i], {}, self._formulas[i])

        return build(0)

    def _tree_json(self) -> str:
        points, data, formulas = self._points, self._data, self._formulas
        return self._plan.template.format(*[
            format(points[slot], "f") if slot >= 0 else
            f'{_json_flat(data[-1 - slot])},"params":{{}},"formula":{_js(formulas[-1 - slot])}'
            for slot in self._plan.slots])
