"""Self-evaluation weights from a target sheet's weights and the rule version's defaults.

A target sheet's indicator weights add up to 100 over outputs, outcomes and
satisfaction. A self-evaluation gives budget execution its default weight (10)
and each level-1 category its default (outputs 50, outcomes 30, satisfaction
10), shared among the category's indicators in proportion to their target-sheet
weights. Shares are rounded to 0.01 by the largest remainder, so they add up
exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_DOWN, Decimal

from core.services.scoring import ScoringRules
from plugins.evaluation.rules import LEVEL1_KEYS, execution_weight

CENT = Decimal("0.01")


def apportion(total: Decimal, shares: Sequence[Decimal]) -> list[Decimal]:
    """Split ``total`` (2 places) in proportion to ``shares``, each to 0.01, adding up exactly."""
    whole = sum(shares, Decimal(0))
    if whole <= 0:
        raise ValueError("shares must add up to more than 0")
    exact = [total * s / whole for s in shares]
    out = [e.quantize(CENT, rounding=ROUND_DOWN) for e in exact]
    left = int((total - sum(out, Decimal(0))) / CENT)
    by_remainder = sorted(range(len(exact)), key=lambda i: (out[i] - exact[i], i))
    for i in by_remainder[:left]:
        out[i] += CENT
    return out


def self_evaluation_weights(rules: ScoringRules, level1s: Sequence[str],
                            sheet_weights: Sequence[Decimal]) -> list[Decimal]:
    """The weight of each indicator in a self-evaluation (the execution weight comes first)."""
    rest = rules.total_weight - execution_weight(rules)
    keys = [LEVEL1_KEYS.get(level1, level1) for level1 in level1s]
    present = list(dict.fromkeys(keys))
    defaults = rules.default_weights
    if all(k in defaults for k in present):
        shares = [Decimal(defaults[k]) for k in present]
    else:  # a category without a default weight: keep the sheet's proportions
        shares = [sum((w for k2, w in zip(keys, sheet_weights, strict=True) if k2 == k),
                      Decimal(0)) for k in present]
    category = dict(zip(present, apportion(rest, shares), strict=True))
    out: list[Decimal] = [Decimal(0)] * len(keys)
    for k in present:
        idx = [i for i, k2 in enumerate(keys) if k2 == k]
        for i, w in zip(idx, apportion(category[k], [sheet_weights[i] for i in idx]),
                        strict=True):
            out[i] = w
    return out
