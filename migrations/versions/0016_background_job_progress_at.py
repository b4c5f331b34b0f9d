"""background jobs: when the progress last moved (a stalled job is marked failed)

Revision ID: 0016_background_job_progress_at
Revises: 0015_projects
Create Date: 2026-12-08 10:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = "0016_background_job_progress_at"
down_revision = "0015_projects"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("background_job") as batch:
        batch.add_column(sa.Column("progress_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("background_job") as batch:
        batch.drop_column("progress_at")
