"""Demo data of the shared model: a district's org tree, users, years and budget items.

Deterministic for a given ``rng`` seed. ``district`` scale: a finance bureau,
40 departments with 200 units, 12 towns with their departments and units, and
about 3,000 budget items over the three budget types; ``small`` is a tenth. Each item
belongs to a project of the project library (its own: the demo's years share none, so
the journeys' item codes stay unique; ``flask jixiao year open`` continues them).
"""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from core.models import (
    BudgetItem,
    BudgetType,
    FiscalYear,
    ItemKind,
    OrgKind,
    OrgUnit,
    Project,
    ProjectStatus,
    Role,
    StageDeadline,
    User,
)

DEMO_PASSWORD = "Jixiao@2026"  # noqa: S105 - printed by the run command for demo logins
DEMO_YEAR = 2026

DEPARTMENTS = [
    "教育局", "卫生健康委员会", "民政局", "人力资源和社会保障局", "住房和城乡建设管理委员会",
    "交通委员会", "农业农村委员会", "生态环境局", "文化旅游局", "体育局", "科学技术委员会",
    "经济委员会", "商务委员会", "发展和改革委员会", "规划和自然资源局", "水务局",
    "绿化和市容管理局", "公安分局", "司法局", "应急管理局", "市场监督管理局", "统计局",
    "审计局", "退役军人事务局", "医疗保障局", "档案局", "机关事务管理局", "国有资产监督管理委员会",
    "房屋管理局", "城市管理行政执法局", "信访办公室", "残疾人联合会", "妇女联合会", "共青团区委",
    "总工会", "科学技术协会", "红十字会", "融媒体中心", "区委党校", "数据局",
]
UNIT_SUFFIXES = ["机关", "事务中心", "管理所", "服务中心", "监测站", "研究所", "指导中心", "保障中心"]
TOWNS = ["嘉定镇街道", "新成路街道", "真新街道", "南翔镇", "安亭镇", "马陆镇", "徐行镇",
         "华亭镇", "外冈镇", "江桥镇", "菊园新区", "工业区"]
TOWN_DEPTS = ["社区事务受理服务中心", "城市运行管理中心", "农业服务中心", "文体服务中心"]
PROJECT_WORDS = ["设施维护", "信息化建设", "专项补贴", "运行保障", "能力提升", "综合治理",
                 "公共服务", "标准化建设", "购买服务", "专项整治", "设备购置", "宣传推广"]
POLICY_WORDS = ["扶持政策", "补贴政策", "奖励资金", "专项资金"]


def _amount(rng, kind: ItemKind) -> Decimal:
    """A realistic spread: many small items, some ≥ 1M, a few recurring ≥ 10M."""
    roll = rng.random()
    if kind == ItemKind.DEPARTMENT_OVERALL:
        yuan = rng.randint(20_000_000, 900_000_000)
    elif roll < 0.55:
        yuan = rng.randint(50_000, 999_999)
    elif roll < 0.90:
        yuan = rng.randint(1_000_000, 9_999_999)
    else:
        yuan = rng.randint(10_000_000, 120_000_000)
    return Decimal(yuan) + Decimal(rng.randint(0, 99)) / 100


def _user(session, roles, username, full_name, role, org, rng) -> User:
    user = User(username=username, full_name=full_name, role=roles[role], org_unit=org,
                session_token=f"{rng.getrandbits(64):016x}")
    # one hash for every demo user: argon2 is slow on purpose
    _user.hash = getattr(_user, "hash", None) or User.hash_password(DEMO_PASSWORD)
    user.password_hash = _user.hash
    session.add(user)
    return user


def seed_core(session, rng, scale: str) -> None:
    roles = {r.name: r for r in session.scalars(select(Role))}
    n_depts, units_per, n_towns, items_target = (
        (40, 5, 12, 3000) if scale == "district" else (6, 3, 2, 300))

    bureau = OrgUnit(code="CZJ", name="区财政局", kind=OrgKind.FINANCE_BUREAU)
    session.add(bureau)
    owners: list[OrgUnit] = []
    depts: list[OrgUnit] = []
    for i, name in enumerate(DEPARTMENTS[:n_depts], start=1):
        dept = OrgUnit(code=f"D{i:02d}", name=f"区{name}", kind=OrgKind.DEPARTMENT, parent=bureau)
        depts.append(dept)
        owners.append(dept)
        for j in range(1, units_per + 1):
            suffix = UNIT_SUFFIXES[(i + j) % len(UNIT_SUFFIXES)]
            unit = OrgUnit(code=f"D{i:02d}U{j:02d}", name=f"区{name}{suffix}",
                           kind=OrgKind.UNIT, parent=dept)
            owners.append(unit)
    towns: list[OrgUnit] = []
    for i, name in enumerate(TOWNS[:n_towns], start=1):
        town = OrgUnit(code=f"T{i:02d}", name=name, kind=OrgKind.TOWN, parent=bureau)
        towns.append(town)
        for j, dname in enumerate(TOWN_DEPTS, start=1):
            tdept = OrgUnit(code=f"T{i:02d}D{j:02d}", name=f"{name}{dname}",
                            kind=OrgKind.TOWN_DEPARTMENT, parent=town)
            owners.append(tdept)
            unit = OrgUnit(code=f"T{i:02d}D{j:02d}U01", name=f"{name}{dname}办公室",
                           kind=OrgKind.UNIT, parent=tdept)
            owners.append(unit)
    session.add_all(owners + towns)
    session.flush()

    years = {}
    for year in (DEMO_YEAR - 1, DEMO_YEAR):
        fy = FiscalYear(year=year, name=f"{year}年度", status="open" if year == DEMO_YEAR else "closed")
        fy.deadlines = [
            StageDeadline(stage="pre_assessment", due=date(year - 1, 9, 30)),
            StageDeadline(stage="targets", due=date(year - 1, 11, 30)),
            StageDeadline(stage="monitoring", due=date(year, 8, 31)),
            StageDeadline(stage="self_evaluation", due=date(year + 1, 3, 31)),
        ]
        session.add(fy)
        years[year] = fy
    session.flush()

    _user(session, roles, "finance", "财政局绩效科", "finance_admin", bureau, rng)
    _user(session, roles, "viewer", "区人大预算工委", "viewer", bureau, rng)
    for i, dept in enumerate(depts, start=1):
        _user(session, roles, f"dept{i:02d}", f"{dept.name}财务科", "dept_admin", dept, rng)
    for unit in [o for o in owners if o.kind == OrgKind.UNIT and o.code.startswith("D")]:
        _user(session, roles, f"unit{unit.code[1:3]}{unit.code[-2:]}", f"{unit.name}财务",
              "unit_user", unit, rng)
    for i, town in enumerate(towns, start=1):
        _user(session, roles, f"town{i:02d}", f"{town.name}财政所", "dept_admin", town, rng)
    for i in range(1, 6):
        _user(session, roles, f"expert{i:02d}", f"评审专家{i}", "expert", None, rng)
    for i in range(1, 4):
        _user(session, roles, f"agency{i:02d}", f"第三方机构用户{i}", "agency_user", None, rng)
    session.flush()

    budget_types = [BudgetType.GENERAL_PUBLIC] * 85 + [BudgetType.GOVERNMENT_FUND] * 12 + \
        [BudgetType.STATE_CAPITAL] * 3
    seq = 0
    items: list[BudgetItem] = []
    for year, fy in years.items():
        per_year = items_target // 2
        this_year: list[BudgetItem] = []
        for n in range(per_year):
            owner = owners[n % len(owners)] if n < len(owners) else rng.choice(owners)
            if owner.kind in (OrgKind.DEPARTMENT, OrgKind.TOWN_DEPARTMENT) and n < len(owners):
                kind = ItemKind.DEPARTMENT_OVERALL
            else:
                kind = ItemKind.POLICY if rng.random() < 0.08 else ItemKind.PROJECT
            seq += 1
            words = POLICY_WORDS if kind == ItemKind.POLICY else PROJECT_WORDS
            name = (f"{owner.name}部门整体支出" if kind == ItemKind.DEPARTMENT_OVERALL
                    else f"{owner.name}{rng.choice(words)}")
            amount = _amount(rng, kind)
            pos = kind == ItemKind.PROJECT and rng.random() < 0.12
            code = f"{year}-{owner.code}-{seq:05d}"
            budget_type, is_new = rng.choice(budget_types), rng.random() < 0.25
            # the project's years from their own generator: the items stay as they were
            side = random.Random(seq)
            start = year if is_new else year - side.randint(1, 3)
            end = None if kind == ItemKind.DEPARTMENT_OVERALL else \
                side.choice([None, None, year, year + 1, year + 2, year + 4])
            project = Project(code=code, name=name, org_unit_id=owner.id, kind=kind,
                              start_year=start, end_year=end, status=_status(is_new, end, year))
            this_year.append(BudgetItem(
                code=code, name=name, fiscal_year_id=fy.id, project=project,
                org_unit_id=owner.id, kind=kind, budget_type=budget_type,
                amount=amount, is_new=is_new,
                is_recurring=kind != ItemKind.POLICY and rng.random() < 0.6,
                is_key_task=rng.random() < 0.07, is_purchase_of_services=pos,
                contractor=f"上海{rng.choice(['华信', '申联', '嘉惠', '同济'])}服务有限公司" if pos else None))
        items += this_year
    session.add_all(items)
    session.flush()


def _status(is_new: bool, end: int | None, year: int) -> ProjectStatus:
    if end == year:
        return ProjectStatus.ENDING
    return ProjectStatus.NEW if is_new else ProjectStatus.CONTINUING


def demo_logins(session) -> list[tuple[str, str, str]]:
    """(username, role, org) of one demo user per role, for the run command to print."""
    wanted = ["finance", "dept01", "unit0101", "town01", "expert01", "agency01", "viewer"]
    users = {u.username: u for u in session.scalars(select(User).where(User.username.in_(wanted)))}
    return [(name, users[name].role_name, users[name].org_unit.name if users[name].org_unit else "-")
            for name in wanted if name in users]
