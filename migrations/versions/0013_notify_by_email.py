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
    op.add_column("user_account", sa.Column("notify_by_email", sa.Boolean(), nullable=False,
                                            server_default=sa.false()))


def downgrade():
    # a plain ALTER TABLE (SQLite ≥ 3.35 too): batch mode would copy user_account, which
    # the foreign keys of every other table refuse
    op.execute("ALTER TABLE user_account DROP COLUMN notify_by_email")
