from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import Decimal

import pytest
from sqlalchemy import delete, select

from core.extensions import db
from core.models import (
    Attachment,
    BudgetItem,
    FiscalYear,
    ItemKind,
    OrgUnit,
    ScoreRecord,
    User,
    WorkflowEvent,
)
from tests.support import csrf_from

#: ten indicators of 10 points each (the default sheet)
GOOD = ["9", "8.5", "9", "8", "9", "8", "8.5", "9", "9", "8"]  # 86.0


@dataclass
class World:
    """Fresh 2026 items of unit D01U01 (department D01), removed afterwards."""

    tag: str
    big: int  # new project, 8,000,000 — a key candidate
    mid: int  # new project, 2,000,000
    small: int  # new project, 500,000 — below the threshold
    old: int  # continuing project, 3,000,000
    policy: int  # continuing policy, 2,000,000
    overall: int  # department overall, 9,000,000

    def code(self, item_id: int) -> str:
        return db.session.get(BudgetItem, item_id).code


@pytest.fixture
def world(app):
    from plugins.preassessment.models import ExpertReview, Preassessment

    tag = secrets.token_hex(3).upper()
    specs = {"big": ("project", "8000000.00", True), "mid": ("project", "2000000.00", True),
             "small": ("project", "500000.00", True), "old": ("project", "3000000.00", False),
             "policy": ("policy", "2000000.00", False),
             "overall": ("department_overall", "9000000.00", True)}
    with app.app_context():
        year = db.session.scalar(select(FiscalYear).where(FiscalYear.year == 2026))
        unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "D01U01"))
        ids = {}
        for key, (kind, amount, new) in specs.items():
            item = BudgetItem(code=f"2026-PA{tag}-{key}", name=f"事前评估测试{key}{tag}",
                              fiscal_year_id=year.id, org_unit_id=unit.id, kind=ItemKind(kind),
                              amount=Decimal(amount), is_new=new)
            db.session.add(item)
            db.session.flush()
            ids[key] = item.id
        db.session.commit()
    yield World(tag, **ids)
    with app.app_context():
        pa_ids = list(db.session.scalars(select(Preassessment.id).where(
            Preassessment.budget_item_id.in_(ids.values()))))
        review_ids = list(db.session.scalars(select(ExpertReview.id).where(
            ExpertReview.preassessment_id.in_(pa_ids))))
        db.session.execute(delete(ScoreRecord).where(
            ScoreRecord.object_type == "preassessment", ScoreRecord.object_id.in_(pa_ids)))
        db.session.execute(delete(ScoreRecord).where(
            ScoreRecord.object_type == "preassessment_review",
            ScoreRecord.object_id.in_(review_ids)))
        db.session.execute(delete(Attachment).where(
            Attachment.object_type == "preassessment", Attachment.object_id.in_(pa_ids)))
        db.session.execute(delete(WorkflowEvent).where(
            WorkflowEvent.object_type == "preassessment", WorkflowEvent.object_id.in_(pa_ids)))
        db.session.execute(delete(ExpertReview).where(ExpertReview.id.in_(review_ids)))
        db.session.execute(delete(Preassessment).where(Preassessment.id.in_(pa_ids)))
        db.session.execute(delete(BudgetItem).where(BudgetItem.id.in_(ids.values())))
        db.session.commit()


def make_pa(app, item_id: int, **values) -> int:
    """A pre-assessment of ``item_id`` with the given column values."""
    from plugins.preassessment import service

    with app.app_context():
        pa = service.for_item(db.session.get(BudgetItem, item_id))
        for key, value in values.items():
            setattr(pa, key, value)
        db.session.commit()
        return pa.id


def get_pa(app, pa_id: int):
    from plugins.preassessment.models import Preassessment

    with app.app_context():
        pa = db.session.get(Preassessment, pa_id)
        db.session.expunge(pa)
        return pa


def user_id(app, username: str) -> int:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.username == username))


def post(client, page_url: str, action_url: str, data: dict, **kwargs):
    page = client.get(page_url)
    assert page.status_code == 200, (page_url, page.status_code)
    return client.post(action_url, data={"csrf_token": csrf_from(page.text), **data},
                       follow_redirects=True, **kwargs)


def self_assess(client, pa_id: int, points=GOOD, action="submit", summary="自评说明"):
    data = {"id": pa_id, "action": action, "summary": summary,
            **{f"p{n}": v for n, v in enumerate(points)}}
    return post(client, f"/admin/preassessment/assessment/?id={pa_id}",
                "/admin/preassessment/save-self/", data)


def submitted_pa(app, login, item_id: int, points=GOOD) -> int:
    pa_id = make_pa(app, item_id)
    r = self_assess(login("unit0101"), pa_id, points)
    assert r.status_code == 200
    return pa_id


def key_panel(app, login, world, experts=("expert01", "expert02"), points=GOOD) -> int:
    """A submitted self-assessment of the big item, selected as key, with a panel."""
    pa_id = submitted_pa(app, login, world.big, points)
    fin = login("finance")
    r = post(fin, "/admin/preassessment-key/?year=2026", "/admin/preassessment-key/?year=2026",
             {"item_id": world.big, "selected": "1"})
    assert r.status_code == 200
    for name in experts:
        post(fin, f"/admin/preassessment/assessment/?id={pa_id}", "/admin/preassessment/panel/",
             {"id": pa_id, "expert_id": user_id(app, name)})
    return pa_id


def review_of(app, pa_id: int, username: str) -> int:
    from plugins.preassessment.models import ExpertReview

    with app.app_context():
        return db.session.scalar(select(ExpertReview.id).where(
            ExpertReview.preassessment_id == pa_id,
            ExpertReview.user_id == user_id(app, username)))


def expert_scores(client, review_id: int, points, opinion="同意立项", action="submit"):
    data = {"id": review_id, "action": action, "opinion": opinion,
            **{f"p{n}": v for n, v in enumerate(points)}}
    url = f"/admin/preassessment_review/score/?id={review_id}"
    return post(client, url, url, data)


@pytest.fixture
def extra_expert(app, world):
    """One more expert account (expert05's password is changed by another test); the
    audit log keeps referring to it, so it is switched off rather than deleted."""
    from core.models import Role

    name = f"pa_expert_{world.tag.lower()}"
    with app.app_context():
        template = db.session.scalar(select(User).where(User.username == "expert01"))
        role = db.session.scalar(select(Role).where(Role.name == "expert"))
        db.session.add(User(username=name, full_name=f"临时专家{world.tag}", role_id=role.id,
                            password_hash=template.password_hash, session_token="x" * 16))
        db.session.commit()
    yield name
    with app.app_context():
        db.session.scalar(select(User).where(User.username == name)).active = False
        db.session.commit()
