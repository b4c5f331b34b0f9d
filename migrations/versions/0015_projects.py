"""project library: one project across years; carried-over target sheets

Creates ``project`` and links every budget item to one: existing items are grouped by
their code (the latest item gives the project its name, org unit and kind; the earliest
year is its start). ``target_sheet.carried_from_id`` marks a sheet copied from the
project's previous year when the year was opened.

Revision ID: 0015_projects
Revises: 0013_notify_by_email
Create Date: 2026-12-07 19:30:00
"""
from alembic import op
import sqlalchemy as sa

import core.money

revision = "0015_projects"
down_revision = "0014_background_jobs"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "project",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.Enum("PROJECT", "POLICY", "DEPARTMENT_OVERALL", name="itemkind",
                                  native_enum=False, length=32), nullable=False),
        sa.Column("status", sa.Enum("NEW", "CONTINUING", "ENDING", name="projectstatus",
                                    native_enum=False, length=20), nullable=False),
        sa.Column("start_year", sa.Integer(), nullable=False),
        sa.Column("end_year", sa.Integer(), nullable=True),
        sa.Column("request_year", sa.Integer(), nullable=True),
        sa.Column("request_amount", core.money.Money(precision=18, scale=2), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("org_unit_id", sa.Integer(), nullable=False),
        sa.CheckConstraint("end_year IS NULL OR end_year >= start_year",
                           name=op.f("ck_project_years_in_order")),
        sa.ForeignKeyConstraint(["org_unit_id"], ["org_unit.id"],
                                name=op.f("fk_project_org_unit_id_org_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project")),
        sa.UniqueConstraint("code", name=op.f("uq_project_code")),
    )
    op.create_index(op.f("ix_project_name"), "project", ["name"])
    op.create_index(op.f("ix_project_org_unit_id"), "project", ["org_unit_id"])
    # a column-level REFERENCES: SQLite adds it without rebuilding the table (which the
    # foreign keys of every other table would refuse); PostgreSQL reads it the same way
    op.execute("ALTER TABLE budget_item ADD COLUMN project_id INTEGER "
               "CONSTRAINT fk_budget_item_project_id_project REFERENCES project (id)")
    op.add_column("target_sheet", sa.Column("carried_from_id", sa.Integer(), nullable=True))
    op.execute("""
        INSERT INTO project (code, name, kind, status, start_year, version, created_at,
                             updated_at, org_unit_id)
        SELECT b.code, b.name, b.kind,
               CASE WHEN b.is_new AND y.year = (
                   SELECT min(y2.year) FROM budget_item b2
                   JOIN fiscal_year y2 ON y2.id = b2.fiscal_year_id WHERE b2.code = b.code)
               THEN 'NEW' ELSE 'CONTINUING' END,
               (SELECT min(y2.year) FROM budget_item b2
                JOIN fiscal_year y2 ON y2.id = b2.fiscal_year_id WHERE b2.code = b.code),
               1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, b.org_unit_id
        FROM budget_item b JOIN fiscal_year y ON y.id = b.fiscal_year_id
        WHERE b.id = (SELECT max(b3.id) FROM budget_item b3 WHERE b3.code = b.code)
    """)
    op.execute("UPDATE budget_item SET project_id = "
               "(SELECT p.id FROM project p WHERE p.code = budget_item.code)")
    op.create_index(op.f("ix_budget_item_project_id"), "budget_item", ["project_id"])
    op.create_index("uq_budget_item_year_project", "budget_item",
                    ["fiscal_year_id", "project_id"], unique=True)


def downgrade():
    op.drop_index("uq_budget_item_year_project", table_name="budget_item")
    op.drop_index(op.f("ix_budget_item_project_id"), table_name="budget_item")
    # plain ALTER TABLE (SQLite ≥ 3.35 too): see 0013 on why not batch mode
    op.execute("ALTER TABLE target_sheet DROP COLUMN carried_from_id")
    op.execute("ALTER TABLE budget_item DROP COLUMN project_id")
    op.drop_index(op.f("ix_project_org_unit_id"), table_name="project")
    op.drop_index(op.f("ix_project_name"), table_name="project")
    op.drop_table("project")
