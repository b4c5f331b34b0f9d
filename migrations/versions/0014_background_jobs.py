"""background jobs people start (long actions with a progress bar)

Revision ID: 0014_background_jobs
Revises: 0013_notify_by_email
Create Date: 2026-12-07 19:30:00
"""
from alembic import op
import sqlalchemy as sa

revision = "0014_background_jobs"
down_revision = "0013_notify_by_email"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "background_job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("func", sa.String(length=200), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("worker", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["owner_id"], ["user_account.id"],
                                name=op.f("fk_background_job_owner_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_background_job")),
    )
    op.create_index(op.f("ix_background_job_owner_id"), "background_job", ["owner_id"])
    op.create_index(op.f("ix_background_job_status"), "background_job", ["status"])


def downgrade():
    op.drop_index(op.f("ix_background_job_status"), table_name="background_job")
    op.drop_index(op.f("ix_background_job_owner_id"), table_name="background_job")
    op.drop_table("background_job")
