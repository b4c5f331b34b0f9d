"""Read-only views of one plugin's data for the others (plugins never import each other),
answered by the owning plugin through a hook and merged by ``core.plugins.hooks()``
(nothing when the owner is disabled), queried in the caller's session and row scope:
targets → ``approved_targets``, agencies → ``engagements``, preassessment →
``preassessment_conclusions``, evaluation → ``evaluation_results`` (the same
``EvaluationResult`` is passed to ``jixiao_evaluation_finalized``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal


@dataclass(frozen=True)
class Stage:
    """A plugin's stage (``jixiao_stage``): its menu category and the group of its tasks,
    placed by ``order`` (事前 10, 目标 20, 监控 30, 评价 40, 结果应用 50, 公开 60, 机构 70 …)."""

    key: str
    label: str
    order: int


@dataclass(frozen=True)
class Task:
    """An action waiting for a person (待办, ``jixiao_tasks``): one record, or a queue of
    ``count`` records (finance's "待财政审核 157"); ``due`` past today means overdue."""

    stage: str  # a ``Stage.key``
    title: str
    link: str
    since: datetime | None = None
    due: date | None = None
    count: int = 1

    @property
    def overdue(self) -> bool:
        return self.due is not None and self.due < date.today()


@dataclass(frozen=True)
class Panel:
    """A plugin's panel on a budget item's page (``jixiao_item_panels``): a title and
    rendered HTML (``Markup``), placed by its stage's order."""

    stage: str
    title: str
    html: str


@dataclass(frozen=True)
class Bar:
    """A line of a stage card: ``done`` of ``total``, linking to the list of what it counts."""

    label: str
    done: int
    total: int
    link: str | None = None
    tone: str = "success"


@dataclass(frozen=True)
class Widget:
    """A home page card (``jixiao_dashboard_widgets``, ``tone`` a bootstrap class); with a
    ``stage`` key it is that stage's card in the pipeline, with its ``due`` date and ``bars``."""

    title: str
    value: str
    note: str = ""
    link: str | None = None
    order: int = 100
    tone: str = "primary"
    stage: str = ""
    due: date | None = None
    bars: tuple[Bar, ...] = ()


@dataclass(frozen=True)
class IndicatorView:
    """One level-3 target indicator of an approved target sheet."""

    id: int
    level1: str  # 产出指标 / 效益指标 / 满意度指标 / 成本指标 …
    level2: str
    name: str
    comparator: str  # "ge", "le", "eq", "range", "qualitative"
    target_value: str  # exact text as entered (a decimal number for quantitative ones)
    unit: str | None
    weight: Decimal
    scoring_method: str  # a core.services.scoring method name


@dataclass(frozen=True)
class ItemTargets:
    """The approved target sheet of one budget item."""

    budget_item_id: int
    sheet_id: int
    org_unit_id: int
    fiscal_year: int
    goal: str
    indicators: tuple[IndicatorView, ...]


@dataclass(frozen=True)
class StaffView:
    id: int
    name: str
    grade: str  # e.g. "senior", "middle", "junior" as the agency recorded it


@dataclass(frozen=True)
class DeliverableView:
    attachment_id: int
    filename: str
    uploaded_at: datetime


@dataclass(frozen=True)
class EngagementView:
    """An agency engagement (委托) as other plugins see it."""

    id: int
    code: str
    title: str
    agency_id: int
    agency_name: str
    #: "pre_assessment", "evaluation", "re_evaluation", "target_review", "monitoring",
    #: "consulting" or "audit"
    kind: str
    org_unit_id: int  # the commissioning party
    contract_amount: Decimal
    start_on: date
    end_on: date
    state: str  # the core workflow state
    closed_at: datetime | None
    budget_item_ids: tuple[int, ...]
    #: sum of the assessed budget items' amounts (the "evaluated amount")
    evaluated_amount: Decimal
    team: tuple[StaffView, ...]
    #: hours logged in the agency portal per staff id (submitted and draft logs)
    logged_hours: dict[int, Decimal] = field(default_factory=dict)
    deliverables: tuple[DeliverableView, ...] = ()


@dataclass(frozen=True)
class EvaluationResult:
    """A finalized evaluation as other plugins see it.

    ``id`` is unique per ``kind`` only (each kind has its own table): key on both.
    """

    id: int
    #: "self" (单位自评), "department_key" (部门重点评价), "finance_key" (财政重点评价)
    #: or "re_evaluation" (再评价)
    kind: str
    object_kind: str  # "project", "policy" or "department" (部门整体)
    fiscal_year: int
    org_unit_id: int  # the department (or unit) evaluated
    title: str
    budget_item_ids: tuple[int, ...]
    amount: Decimal  # the evaluated expenditure
    score: Decimal
    grade: str  # "A" 优, "B" 良, "C" 中, "D" 差
    finalized_at: datetime
    #: the public summary (findings and recommendations) — never internal comments
    summary: str = ""


@dataclass(frozen=True)
class PreassessmentConclusion:
    """The pre-assessment result of one budget item, as budget preparation sees it."""

    budget_item_id: int
    preassessment_id: int
    fiscal_year: int
    #: "support" (予以支持), "adjust" (调整后支持), "reject" (不予支持), or "exempt"
    #: (reviewed by a specialist department: the requested amount stands)
    conclusion: str
    requested_amount: Decimal
    recommended_amount: Decimal
    #: the panel score of a key pre-assessment, else the self-assessment score
    score: Decimal | None
    is_key: bool
    final_at: datetime | None


#: the labelled columns of ``approved_indicator_select``, in this order
INDICATOR_COLUMNS = ("budget_item_id", "sheet_id", "org_unit_id", "fiscal_year", "indicator_id",
                     "position", "level1", "level2", "name", "comparator", "target_value",
                     "unit", "weight", "scoring_method")
