"""Evaluation rules as versioned data: scoring versions, result application, re-evaluation gap.

The self-evaluation scoring rules are ``core.services.scoring.ScoringRules`` versions
(grade bands 优/良/中/差, qualitative bands, default level-1 weights). The
built-in one is ``SELF_EVALUATION_2020``; a deployment adds or replaces versions
with the setting ``EVALUATION_RULE_VERSIONS`` (a list of ``ScoringRules.to_dict()``
dicts). Result-application suggestions by grade and the re-evaluation gap are
settings too (``EVALUATION_SUGGESTIONS``, ``EVALUATION_REEVAL_GAP``); none of the
figures is a constant of the code.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l

from core.services.scoring import SELF_EVALUATION_2020, Problem, ScoringError, ScoringRules

#: level-1 category of a target sheet → the default-weight key of the rule version
LEVEL1_KEYS = {"产出": "outputs", "成本": "outputs", "效益": "outcomes", "满意度": "satisfaction"}
EXECUTION_KEY = "budget_execution"

#: grade code → contract letter (core.contracts.EvaluationResult.grade)
LETTERS = {"excellent": "A", "good": "B", "fair": "C", "poor": "D"}

#: the default suggestion per grade (结果应用); finance accepts or changes it
DEFAULT_SUGGESTIONS = {
    "excellent": "keep",
    "good": "keep",
    "fair": "rectify_first",
    "poor": "cut",
}
SUGGESTION_LABELS = {
    "keep": _l("Keep support"),
    "rectify_first": _l("Rectify before funding"),
    "cut": _l("Cut or cancel next year's budget"),
}


def versions(extra: Iterable[Mapping[str, Any]] | None = None) -> list[ScoringRules]:
    """The built-in version, replaced or extended by configured ones (same code wins)."""
    if extra is None:
        extra = current_app.config.get("EVALUATION_RULE_VERSIONS", ()) if has_app_context() \
            else ()
    by_code = {SELF_EVALUATION_2020.code: SELF_EVALUATION_2020}
    for data in extra or ():
        rules = ScoringRules.from_dict(data)
        by_code[rules.code] = rules
    return sorted(by_code.values(), key=lambda v: v.valid_from)


def rules_for_year(year: int) -> ScoringRules:
    """The latest version valid for ``year`` (the earliest one for older years)."""
    found = versions()
    chosen = found[0]
    for version in found:
        if version.valid_from <= year:
            chosen = version
    return chosen


def find_rules(code: str | None) -> ScoringRules:
    """The version ``code``, or the latest one when ``code`` is empty."""
    found = versions()
    if not code:
        return found[-1]
    for version in found:
        if version.code == code:
            return version
    raise ScoringError(Problem("rule_version", _l("Unknown rule version “%(code)s”.",
                                                  code=code)))


def execution_weight(rules: ScoringRules) -> Decimal:
    return Decimal(rules.default_weights.get(EXECUTION_KEY, Decimal(10)))


def suggestion_for(grade: str) -> str:
    configured = current_app.config.get("EVALUATION_SUGGESTIONS") or {}
    return configured.get(grade) or DEFAULT_SUGGESTIONS.get(grade, "rectify_first")


def reeval_gap() -> Decimal:
    """Points of difference between self and re-evaluated score that are flagged."""
    return Decimal(str(current_app.config.get("EVALUATION_REEVAL_GAP", "10")))


#: level-1 categories of the key-evaluation framework: 决策 / 过程 / 产出 / 效益
DECISION, PROCESS, OUTPUTS, OUTCOMES = "决策", "过程", "产出", "效益"
_PROJECT = [
    (DECISION, "项目立项", "立项依据充分性", 3), (DECISION, "项目立项", "立项程序规范性", 3),
    (DECISION, "绩效目标", "绩效目标合理性", 3), (DECISION, "绩效目标", "绩效指标明确性", 3),
    (DECISION, "资金投入", "预算编制科学性", 4), (DECISION, "资金投入", "资金分配合理性", 4),
    (PROCESS, "资金管理", "资金到位率", 4), (PROCESS, "资金管理", "预算执行率", 4),
    (PROCESS, "资金管理", "资金使用合规性", 4), (PROCESS, "组织实施", "管理制度健全性", 4),
    (PROCESS, "组织实施", "制度执行有效性", 4),
    (OUTPUTS, "数量", "实际完成率", 8), (OUTPUTS, "质量", "质量达标率", 8),
    (OUTPUTS, "时效", "完成及时性", 7), (OUTPUTS, "成本", "成本节约率", 7),
    (OUTCOMES, "项目效益", "社会效益", 10), (OUTCOMES, "项目效益", "经济效益", 5),
    (OUTCOMES, "项目效益", "生态效益", 5), (OUTCOMES, "项目效益", "可持续影响", 5),
    (OUTCOMES, "项目效益", "服务对象满意度", 5),
]
_POLICY = [
    (DECISION, "政策立项", "政策依据充分性", 4), (DECISION, "政策立项", "决策程序规范性", 4),
    (DECISION, "绩效目标", "政策目标合理性", 4), (DECISION, "资金投入", "资金规模合理性", 4),
    (DECISION, "资金投入", "补助标准科学性", 4),
    (PROCESS, "资金管理", "资金拨付及时性", 5), (PROCESS, "资金管理", "资金使用合规性", 5),
    (PROCESS, "组织实施", "政策执行规范性", 5), (PROCESS, "组织实施", "监督管理有效性", 5),
    (OUTPUTS, "数量", "政策覆盖率", 10), (OUTPUTS, "质量", "兑现准确率", 10),
    (OUTPUTS, "时效", "兑现及时性", 10),
    (OUTCOMES, "政策效益", "政策目标实现程度", 15), (OUTCOMES, "政策效益", "可持续影响", 5),
    (OUTCOMES, "政策效益", "受益对象满意度", 10),
]
_DEPARTMENT = [
    (DECISION, "部门职责", "职责明确性", 5), (DECISION, "绩效目标", "整体目标合理性", 5),
    (DECISION, "资金投入", "预算编制规范性", 5), (DECISION, "资金投入", "预算配置合理性", 5),
    (PROCESS, "预算管理", "预算执行率", 5), (PROCESS, "预算管理", "结转结余控制", 5),
    (PROCESS, "资产管理", "资产管理规范性", 5), (PROCESS, "业务管理", "内控制度有效性", 5),
    (OUTPUTS, "数量", "重点工作完成率", 10), (OUTPUTS, "质量", "工作质量达标率", 10),
    (OUTPUTS, "时效", "重点工作及时性", 5), (OUTPUTS, "成本", "公用经费控制率", 5),
    (OUTCOMES, "履职效益", "社会效益", 15), (OUTCOMES, "履职效益", "可持续发展能力", 5),
    (OUTCOMES, "履职效益", "服务对象满意度", 10),
]
#: object kind → (level1, level2, indicator, weight) of the default key-evaluation sheet
KEY_TEMPLATES = {"project": _PROJECT, "policy": _POLICY, "department": _DEPARTMENT}


def key_template(object_kind: str) -> list[tuple[str, str, str, Decimal]]:
    """The sheet template of an object kind (setting ``EVALUATION_KEY_TEMPLATES`` wins)."""
    configured = current_app.config.get("EVALUATION_KEY_TEMPLATES") or {}
    rows = configured.get(object_kind) or KEY_TEMPLATES[object_kind]
    return [(str(l1), str(l2), str(name), Decimal(str(w))) for l1, l2, name, w in rows]


def results_share() -> Decimal:
    """Minimum share (%) of outputs + outcomes in an evaluation after the implementation
    period (unconfirmed figure: configurable)."""
    return Decimal(str(current_app.config.get("EVALUATION_KEY_MIN_RESULTS_SHARE", "60")))
