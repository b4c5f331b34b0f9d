"""The audit log: every change lands, with who/when/what, and tampering is detected."""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Enum,
    Float,
    LargeBinary,
    MetaData,
    String,
    bindparam,
    delete,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from core.audit import (
    REDACTED,
    AuditError,
    actor_var,
    entry_hash,
    hashed_fields,
    payload_parts,
)
from core.extensions import db
from core.models import AuditLog, BudgetItem, FiscalYear, ItemKind, OrgUnit, User
from core.money import Money
from core.services.audit_check import verify
from tests.support import csrf_from


def _entries(object_type: str, object_id, since: int) -> list[AuditLog]:
    """The entries of one object written after entry ``since`` (SQLite reuses ids)."""
    return list(db.session.scalars(
        select(AuditLog).where(AuditLog.id > since, AuditLog.object_type == object_type,
                               AuditLog.object_id == str(object_id)).order_by(AuditLog.id)))


def _last_id() -> int:
    return db.session.scalar(select(AuditLog.id).order_by(AuditLog.id.desc()).limit(1)) or 0


def _new_item(code: str, org_code: str = "D05U01", **values) -> BudgetItem:
    org = db.session.scalar(select(OrgUnit).where(OrgUnit.code == org_code))
    year = db.session.scalar(select(FiscalYear).where(FiscalYear.year == 2026))
    item = BudgetItem(code=code, name=f"审计测试{code}", fiscal_year=year, org_unit=org,
                      amount=Decimal("100.00"), **values)
    db.session.add(item)
    return item


def _verify_cli(app):
    return app.test_cli_runner().invoke(args=["jixiao", "audit", "verify"])


# --- through the admin, as a logged-in user -------------------------------------------

def _item_form(client, url: str, **values) -> dict:
    page = client.get(url)
    assert page.status_code == 200
    form = {"csrf_token": csrf_from(page.text), "kind": "PROJECT",
            "budget_type": "GENERAL_PUBLIC", "contractor": "", "description": ""}
    form.update(values)
    return form


def test_admin_create_edit_delete_land_in_the_log_with_the_user(app, login):
    c = login("dept05")
    with app.app_context():
        since = _last_id()
        dept05 = db.session.scalar(select(User).where(User.username == "dept05"))
        unit = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "D05U02"))
        year = db.session.scalar(select(FiscalYear).where(FiscalYear.year == 2026))
        user_id, unit_id, year_id = dept05.id, unit.id, year.id

    form = _item_form(c, "/admin/budgetitem/new/", code="AUD-ADMIN-1", name="审计后台新增",
                      fiscal_year=str(year_id), org_unit=str(unit_id), amount="1234.50")
    assert c.post("/admin/budgetitem/new/", data=form).status_code == 302
    with app.app_context():
        item = db.session.scalar(select(BudgetItem).where(BudgetItem.code == "AUD-ADMIN-1"))
        item_id = item.id
        (created,) = _entries("budget_item", item_id, since)
    assert (created.action, created.user_id, created.username) == ("create", user_id, "dept05")
    assert created.before is None
    assert created.after["code"] == "AUD-ADMIN-1"
    assert created.after["amount"] == "1234.50"
    assert created.after["org_unit_id"] == unit_id
    assert created.at is not None

    form = _item_form(c, f"/admin/budgetitem/edit/?id={item_id}", code="AUD-ADMIN-1",
                      name="审计后台改名", fiscal_year=str(year_id), org_unit=str(unit_id),
                      amount="99.00", version="1")
    assert c.post(f"/admin/budgetitem/edit/?id={item_id}", data=form).status_code == 302
    with app.app_context():
        updated = _entries("budget_item", item_id, since)[-1]
    assert (updated.action, updated.username) == ("update", "dept05")
    assert updated.before["amount"] == "1234.50" and updated.after["amount"] == "99.00"
    assert updated.before["name"] == "审计后台新增" and updated.after["name"] == "审计后台改名"
    # only what changed: the untouched code, year and unit are not repeated
    assert not {"code", "fiscal_year_id", "org_unit_id", "kind"} & set(updated.after)
    assert all(updated.before[k] != updated.after[k] for k in updated.after)

    token = csrf_from(c.get("/admin/budgetitem/").text)
    assert c.post("/admin/budgetitem/delete/",
                  data={"id": str(item_id), "csrf_token": token}).status_code == 302
    with app.app_context():
        deleted = _entries("budget_item", item_id, since)[-1]
        assert db.session.get(BudgetItem, item_id) is None
    assert (deleted.action, deleted.user_id) == ("delete", user_id)
    assert deleted.before["name"] == "审计后台改名" and deleted.after is None


def test_a_password_change_is_logged_but_the_hash_is_not(app):
    with app.app_context():
        since = _last_id()
        user = db.session.scalar(select(User).where(User.username == "expert05"))
        old_hash, user_id = user.password_hash, user.id
        user.set_password("Another-Pass-2026")
        user.session_token = "f" * 32
        db.session.commit()
        (entry,) = _entries("user_account", user_id, since)
        new_hash = user.password_hash
    assert new_hash != old_hash
    assert entry.action == "update"
    assert entry.before["password_hash"] == entry.after["password_hash"] == REDACTED
    assert entry.before["session_token"] == entry.after["session_token"] == REDACTED
    raw = json.dumps([entry.before, entry.after])
    assert old_hash not in raw and new_hash not in raw and "f" * 32 not in raw


# --- in a CLI or job context ---------------------------------------------------------

def test_cli_changes_are_logged_with_the_actor_and_the_true_before(app):
    with app.app_context():
        since = _last_id()
        ops = db.session.scalar(select(User).where(User.username == "finance"))
        token = actor_var.set((ops.id, "ops-job"))
        try:
            item = _new_item("AUD-CLI-1", kind=ItemKind.PROJECT)
            db.session.commit()  # expires the object: the old values are not in memory
            item.amount = Decimal("2500.75")
            item.kind = ItemKind.POLICY
            db.session.commit()
            item_id = item.id
            db.session.delete(item)  # expired again
            db.session.commit()
        finally:
            actor_var.reset(token)
        created, updated, deleted = _entries("budget_item", item_id, since)
        assert [e.action for e in (created, updated, deleted)] == ["create", "update", "delete"]
        assert {(e.user_id, e.username) for e in (created, updated, deleted)} == {
            (ops.id, "ops-job")}
        assert created.after["amount"] == "100.00" and created.after["kind"] == "project"
        assert updated.before["amount"] == "100.00" and updated.after["amount"] == "2500.75"
        assert updated.before["kind"] == "project" and updated.after["kind"] == "policy"
        assert "code" not in updated.after and "name" not in updated.before
        assert deleted.before["code"] == "AUD-CLI-1" and deleted.before["amount"] == "2500.75"


def test_without_an_actor_the_system_is_named(app):
    with app.app_context():
        since = _last_id()
        item = _new_item("AUD-SYS-1")
        db.session.commit()
        (entry,) = _entries("budget_item", item.id, since)
        assert (entry.user_id, entry.username) == (None, "system")


def test_moving_an_item_through_its_relationship_logs_the_foreign_key(app):
    with app.app_context():
        since = _last_id()
        item = _new_item("AUD-REL-1")
        db.session.commit()
        other = db.session.scalar(select(OrgUnit).where(OrgUnit.code == "D05U03"))
        old_org = item.org_unit_id
        item.org_unit = other
        db.session.commit()
        entry = _entries("budget_item", item.id, since)[-1]
        assert entry.before["org_unit_id"] == old_org
        assert entry.after["org_unit_id"] == other.id


def test_a_failed_flush_leaves_nothing_behind_for_the_next_one(app):
    with app.app_context():
        _new_item("AUD-DUP-1")
        db.session.commit()
        since = _last_id()
        _new_item("AUD-DUP-1")  # same year and code: refused by the database
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()
        ok = _new_item("AUD-DUP-2")
        db.session.commit()
        after = list(db.session.scalars(select(AuditLog).where(AuditLog.id > since)))
        assert [(e.action, e.after["code"]) for e in after] == [("create", "AUD-DUP-2")]
        assert after[0].object_id == str(ok.id)
        assert verify(db.session).ok


def test_bulk_orm_update_is_logged_as_one_entry(app):
    with app.app_context():
        _new_item("AUD-BULK-1")
        _new_item("AUD-BULK-2")
        db.session.commit()
        before = _last_id()
        db.session.execute(update(BudgetItem).where(BudgetItem.code.like("AUD-BULK-%"))
                           .values(amount=Decimal("7.00")))
        db.session.commit()
        (entry,) = db.session.scalars(select(AuditLog).where(AuditLog.id > before))
        assert (entry.action, entry.object_type, entry.object_id) == (
            "bulk_update", "budget_item", "*")
        assert "UPDATE budget_item" in entry.after["sql"]
        assert "7.00" in entry.after["params"].values()
        assert "AUD-BULK-%" in entry.after["params"].values()
        assert verify(db.session).ok


def test_a_bulk_write_naming_a_batch_is_logged_as_one_digest_entry(app):
    from core.audit import DIGEST_OPTION, rows_digest
    from core.services.audit_check import logged_rows

    items = BudgetItem.__table__
    with app.app_context():
        first, second = _new_item("AUD-DIG-1"), _new_item("AUD-DIG-2")
        db.session.commit()
        before = _last_id()
        rows = [{"b_id": first.id, "name": "批量一"}, {"b_id": second.id, "name": "批量二"}]
        db.session.execute(update(items).where(items.c.id == bindparam("b_id"))
                           .values(name=bindparam("name")), rows,
                           execution_options={DIGEST_OPTION: "test batch 1"})
        db.session.commit()
        (entry,) = db.session.scalars(select(AuditLog).where(AuditLog.id > before))
        assert (entry.action, entry.object_type, entry.object_id) == (
            "bulk_update", "budget_item", "*")
        assert "UPDATE budget_item" in entry.after["sql"] and "name" not in entry.after["params"]
        assert (entry.after["batch"], entry.after["rows"]) == ("test batch 1", 2)
        assert logged_rows(entry.after) == rows  # each row's values, compactly
        assert entry.after["sha256"] == rows_digest(rows)
        assert entry.after["sha256"] != rows_digest(rows[:1])
        assert verify(db.session).ok


def test_a_rolled_back_change_leaves_no_entry(app):
    with app.app_context():
        before = _last_id()
        _new_item("AUD-RB-1")
        db.session.flush()
        db.session.rollback()
        assert _last_id() == before
        assert verify(db.session).ok


# --- the chain ------------------------------------------------------------------------

def test_verify_command_reports_an_intact_chain(app):
    with app.app_context():
        count = db.session.scalar(select(db.func.count()).select_from(AuditLog))
    result = _verify_cli(app)
    assert result.exit_code == 0, result.output
    assert f"audit chain intact: {count} entries" in result.output


def test_editing_an_entry_behind_the_apps_back_is_detected(app):
    with app.app_context():
        since = _last_id()
        item = _new_item("AUD-TAMPER-1")
        db.session.commit()
        (entry,) = _entries("budget_item", item.id, since)
        entry_id, original = entry.id, entry.after
        forged = {**original, "amount": "1.00"}
        db.session.execute(text("UPDATE audit_log SET after = :v WHERE id = :id"),
                           {"v": json.dumps(forged), "id": entry_id})
        db.session.commit()
        try:
            result = _verify_cli(app)
            assert result.exit_code == 1
            assert f"BROKEN at entry {entry_id}" in result.output
            assert "altered" in result.output
        finally:
            db.session.execute(text("UPDATE audit_log SET after = :v WHERE id = :id"),
                               {"v": json.dumps(original), "id": entry_id})
            db.session.commit()
        assert _verify_cli(app).exit_code == 0


def test_deleting_an_entry_behind_the_apps_back_is_detected(app):
    log_t = AuditLog.__table__
    with app.app_context():
        since = _last_id()
        item = _new_item("AUD-TAMPER-2")
        db.session.commit()
        item.name = "再改一次"
        db.session.commit()
        victim = _entries("budget_item", item.id, since)[0].id
        saved = dict(db.session.execute(select(log_t).where(log_t.c.id == victim))
                     .mappings().one())
        db.session.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": victim})
        db.session.commit()
        try:
            result = _verify_cli(app)
            assert result.exit_code == 1
            assert f"BROKEN at entry {victim}: missing entry" in result.output
        finally:
            db.session.connection().execute(insert(log_t).values(**saved))  # as a DBA would
            db.session.commit()
        assert _verify_cli(app).exit_code == 0


def test_removing_the_newest_entries_is_detected(app):
    log_t = AuditLog.__table__
    with app.app_context():
        _new_item("AUD-TAMPER-3")
        db.session.commit()
        last = _last_id()
        saved = dict(db.session.execute(select(log_t).where(log_t.c.id == last))
                     .mappings().one())
        db.session.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": last})
        db.session.commit()
        try:
            result = verify(db.session)
            assert not result.ok and result.broken_id == last
        finally:
            db.session.connection().execute(insert(log_t).values(**saved))  # as a DBA would
            db.session.commit()
        assert verify(db.session).ok


def test_the_orm_refuses_to_change_or_remove_entries(app):
    with app.app_context():
        entry = db.session.scalar(select(AuditLog).order_by(AuditLog.id).limit(1))
        entry.username = "someone-else"
        with pytest.raises(AuditError):
            db.session.flush()
        db.session.rollback()
        entry = db.session.scalar(select(AuditLog).order_by(AuditLog.id).limit(1))
        db.session.delete(entry)
        with pytest.raises(AuditError):
            db.session.flush()
        db.session.rollback()
        with pytest.raises(AuditError):
            db.session.execute(update(AuditLog).values(username="x"))
        db.session.rollback()
        with pytest.raises(AuditError):
            db.session.execute(delete(AuditLog).where(AuditLog.id > 0))
        db.session.rollback()
        assert db.session.get(AuditLog, entry.id).username != "someone-else"
        assert verify(db.session).ok


def test_core_statements_on_the_log_tables_are_refused_too(app):
    from core.models import AuditHead

    with app.app_context():
        tip = [tuple(r) for r in db.session.execute(select(AuditHead.__table__))]
        for statement in (update(AuditHead.__table__).values(last_id=0),
                          delete(AuditHead.__table__),
                          update(AuditLog.__table__).values(username="x"),
                          delete(AuditLog.__table__).where(AuditLog.__table__.c.id > 0)):
            with pytest.raises(AuditError):
                db.session.execute(statement)
            db.session.rollback()
        assert [tuple(r) for r in db.session.execute(select(AuditHead.__table__))] == tip
        assert verify(db.session).ok


def test_one_change_and_many_changes_in_a_flush_both_move_the_tip(app):
    """A flush of one change (written with the tip in one statement on PostgreSQL) and a
    flush of several leave the tip on the newest entry, and the chain verifies."""
    from core.models.audit import AuditHead

    with app.app_context():
        for codes in (["AUD-TIP-1"], ["AUD-TIP-2", "AUD-TIP-3", "AUD-TIP-4"]):
            before = _last_id()
            for code in codes:
                _new_item(code)
            db.session.commit()
            new = list(db.session.scalars(select(AuditLog).where(AuditLog.id > before)
                                          .order_by(AuditLog.id)))
            assert [e.object_type for e in new] == ["budget_item"] * len(codes)
            head = db.session.get(AuditHead, 1)
            assert (head.last_id, head.last_hash) == (new[-1].id, new[-1].entry_hash)
            assert new[0].prev_hash == db.session.scalar(
                select(AuditLog.entry_hash).where(AuditLog.id == before))
        assert verify(db.session).ok


def test_concurrent_writers_keep_the_chain_linear(app):
    """Several sessions on their own connections append at once; the chain stays one line."""
    writers, per_writer = 4, 5
    start = threading.Barrier(writers)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            with app.app_context():
                start.wait()
                for i in range(per_writer):
                    _new_item(f"AUD-CONC-{n}-{i}")
                    db.session.commit()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    with app.app_context():
        before = _last_id()
    threads = [threading.Thread(target=work, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    with app.app_context():
        new = list(db.session.scalars(select(AuditLog).where(AuditLog.id > before)
                                      .order_by(AuditLog.id)))
        assert len(new) == writers * per_writer
        assert [e.id for e in new] == list(range(before + 1, before + 1 + len(new)))
        assert len({e.entry_hash for e in new}) == len(new)
        assert len({e.prev_hash for e in new}) == len(new)
        assert verify(db.session).ok


# --- values of every kind survive the JSON round trip on both backends ---------------------

class _TestBase(DeclarativeBase):
    metadata = MetaData()


class OddValues(_TestBase):
    """A test-only model with the column types plugins use (own metadata, own table)."""

    __tablename__ = "test_audit_odd_values"

    id: Mapped[int] = mapped_column(primary_key=True)
    data: Mapped[dict | None] = mapped_column(JSON)
    amount: Mapped[Decimal | None] = mapped_column(Money)
    ratio: Mapped[float | None] = mapped_column(Float)
    due: Mapped[date | None] = mapped_column(Date)
    stamp: Mapped[datetime | None] = mapped_column(DateTime)
    kind: Mapped[ItemKind | None] = mapped_column(Enum(ItemKind, native_enum=False, length=32))
    blob: Mapped[bytes | None] = mapped_column(LargeBinary)
    token_hash: Mapped[str | None] = mapped_column(String(64))


@pytest.fixture
def odd_table(app):
    with app.app_context():
        OddValues.__table__.create(db.engine, checkfirst=True)
    yield app
    with app.app_context():
        db.session.remove()
        OddValues.__table__.drop(db.engine)


def test_values_of_every_type_are_logged_and_the_chain_verifies(odd_table):
    with odd_table.app_context():
        since = _last_id()
        row = OddValues(
            data={"targets": [{"name": "覆盖率", "value": 0.95}], "n": 3, "ok": True},
            amount=Decimal("1234567.80"), ratio=float("nan"), due=date(2026, 3, 31),
            stamp=datetime(2026, 5, 1, 8, 30, 15, 123456), kind=ItemKind.POLICY,
            blob=b"\x00\x01binary", token_hash="a" * 64)
        db.session.add(row)
        db.session.commit()
        row.data = {**row.data, "n": 4}
        row.amount = Decimal("0.50")
        row.stamp = datetime(2026, 5, 2, 9, 0, 0, 1)
        db.session.commit()
        created, updated = _entries(OddValues.__tablename__, row.id, since)
        assert created.after["data"] == {"targets": [{"name": "覆盖率", "value": 0.95}],
                                         "n": 3, "ok": True}
        assert created.after["amount"] == "1234567.80"
        assert created.after["ratio"] == "nan"  # not JSON: PostgreSQL would refuse it
        assert created.after["due"] == "2026-03-31"
        assert created.after["stamp"] == "2026-05-01T08:30:15.123456"
        assert created.after["kind"] == "policy"
        assert created.after["blob"].startswith("sha256:")
        assert created.after["token_hash"] == REDACTED
        assert set(updated.after) == {"data", "amount", "stamp"}
        assert updated.before["stamp"] == "2026-05-01T08:30:15.123456"
        assert updated.after["stamp"] == "2026-05-02T09:00:00.000001"
        assert updated.after["data"]["n"] == 4 and updated.before["amount"] == "1234567.80"
        assert verify(db.session).ok


# --- the hash: one formula, in Python and in PostgreSQL's one-statement append --------------

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8)


@settings(max_examples=200, deadline=None)
@given(prev=st.text("0123456789abcdef", min_size=64, max_size=64),
       entry_id=st.integers(min_value=1, max_value=2**62),
       user_id=st.none() | st.integers(min_value=1), username=st.text(),
       object_id=st.text(), before=_json_values, after=_json_values)
def test_the_entry_hash_is_the_documented_json_of_the_entry(prev, entry_id, user_id, username,
                                                              object_id, before, after):
    """The pieces PostgreSQL hashes (``payload_parts``) spell exactly the JSON ``entry_hash``
    and ``verify`` hash: sha256 of the entry with its ``prev_hash`` (keys sorted, compact,
    not ASCII-escaped), so entries written either way, and old chains, verify."""
    fields = hashed_fields({"id": entry_id, "at": datetime(2026, 11, 26, 8, 0, 0),
                             "user_id": user_id, "username": username, "action": "update",
                             "object_type": "budget_item", "object_id": object_id,
                             "before": before, "after": after})
    payload = json.dumps({**fields, "prev_hash": prev}, sort_keys=True, ensure_ascii=False,
                         separators=(",", ":"), default=str)
    head, mid, tail = payload_parts(fields)
    assert f"{head}{entry_id}{mid}{prev}{tail}" == payload
    assert entry_hash(prev, fields) == hashlib.sha256(payload.encode()).hexdigest()


def test_text_that_json_escapes_is_hashed_alike_by_the_database(app):
    """Quotes, backslashes, control characters, Chinese and emoji in a logged value: the
    stored hash (on PostgreSQL computed by the database) is the one ``verify`` computes."""
    with app.app_context():
        since = _last_id()
        item = _new_item("AUD-ESC", description='引号"\\反斜杠\n换行\t制表 \u2028 😀 \x01')
        db.session.commit()
        (created,) = _entries("budget_item", item.id, since)
        assert created.after["description"] == item.description
        assert created.entry_hash == entry_hash(created.prev_hash, hashed_fields({
            "id": created.id, "at": created.at, "user_id": created.user_id,
            "username": created.username, "action": created.action,
            "object_type": created.object_type, "object_id": created.object_id,
            "before": created.before, "after": created.after}))
        assert verify(db.session).ok
