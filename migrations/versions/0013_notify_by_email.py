"""users choose e-mail notifications

Revision ID: 0013_notify_by_email
Revises: 0012_agency_scoring
Create Date: 2026-12-07 16:20:00
"""
from alembic import op
import sqlalchemy as sa

revision = "0013_notify_by_email"
down_revision = "0012_agency_scoring"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("notify_by_email", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade():
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("notify_by_email")
