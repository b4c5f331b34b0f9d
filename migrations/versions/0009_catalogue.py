"""catalogue: key evaluation catalogues, entries, coverage

Revision ID: 0009_catalogue
Revises: 0008_evaluation
Create Date: 2026-11-25 18:13:14.415966

"""
from alembic import op
import sqlalchemy as sa

import core.money


# revision identifiers, used by Alembic.
revision = '0009_catalogue'
down_revision = '0008_evaluation'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('catalogue',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_start', sa.Integer(), nullable=False),
    sa.Column('cycle_years', sa.Integer(), nullable=False),
    sa.Column('rules_code', sa.String(length=40), nullable=False),
    sa.Column('org_unit_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('DRAFT', 'SUBMITTED', 'RETURNED', 'APPROVED', name='state', native_enum=False, length=20), nullable=False),
    sa.Column('review_level', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_unit.id'], name=op.f('fk_catalogue_org_unit_id_org_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalogue')),
    sa.UniqueConstraint('org_unit_id', 'cycle_start', name=op.f('uq_catalogue_org_unit_id'))
    )
    with op.batch_alter_table('catalogue', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_catalogue_cycle_start'), ['cycle_start'], unique=False)
        batch_op.create_index(batch_op.f('ix_catalogue_org_unit_id'), ['org_unit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_catalogue_state'), ['state'], unique=False)

    op.create_table('catalogue_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('catalogue_id', sa.Integer(), nullable=False),
    sa.Column('budget_item_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Enum('RECURRING_LARGE', 'KEY_TASK', 'HIGH_IMPACT', name='entryreason', native_enum=False, length=20), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('amount', core.money.Money(precision=18, scale=2), nullable=False),
    sa.Column('planned_year', sa.Integer(), nullable=True),
    sa.Column('plan_adjusted', sa.Boolean(), nullable=False),
    sa.Column('org_unit_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['budget_item_id'], ['budget_item.id'], name=op.f('fk_catalogue_entry_budget_item_id_budget_item'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['catalogue_id'], ['catalogue.id'], name=op.f('fk_catalogue_entry_catalogue_id_catalogue'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_unit.id'], name=op.f('fk_catalogue_entry_org_unit_id_org_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalogue_entry')),
    sa.UniqueConstraint('catalogue_id', 'budget_item_id', name=op.f('uq_catalogue_entry_catalogue_id'))
    )
    with op.batch_alter_table('catalogue_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_catalogue_entry_budget_item_id'), ['budget_item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_catalogue_entry_catalogue_id'), ['catalogue_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_catalogue_entry_org_unit_id'), ['org_unit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_catalogue_entry_planned_year'), ['planned_year'], unique=False)

    op.create_table('catalogue_coverage',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('evaluation_id', sa.Integer(), nullable=False),
    sa.Column('evaluation_kind', sa.String(length=20), nullable=False),
    sa.Column('fiscal_year', sa.Integer(), nullable=False),
    sa.Column('score', sa.Numeric(precision=6, scale=2), nullable=False),
    sa.Column('grade', sa.String(length=2), nullable=False),
    sa.Column('finalized_at', sa.DateTime(), nullable=False),
    sa.Column('org_unit_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['catalogue_entry.id'], name=op.f('fk_catalogue_coverage_entry_id_catalogue_entry'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_unit.id'], name=op.f('fk_catalogue_coverage_org_unit_id_org_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalogue_coverage')),
    sa.UniqueConstraint('entry_id', 'evaluation_kind', 'evaluation_id', name=op.f('uq_catalogue_coverage_entry_id'))
    )
    with op.batch_alter_table('catalogue_coverage', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_catalogue_coverage_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_catalogue_coverage_evaluation_id'), ['evaluation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_catalogue_coverage_org_unit_id'), ['org_unit_id'], unique=False)


def downgrade():
    with op.batch_alter_table('catalogue_coverage', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_catalogue_coverage_org_unit_id'))
        batch_op.drop_index(batch_op.f('ix_catalogue_coverage_evaluation_id'))
        batch_op.drop_index(batch_op.f('ix_catalogue_coverage_entry_id'))

    op.drop_table('catalogue_coverage')

    with op.batch_alter_table('catalogue_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_catalogue_entry_planned_year'))
        batch_op.drop_index(batch_op.f('ix_catalogue_entry_org_unit_id'))
        batch_op.drop_index(batch_op.f('ix_catalogue_entry_catalogue_id'))
        batch_op.drop_index(batch_op.f('ix_catalogue_entry_budget_item_id'))

    op.drop_table('catalogue_entry')

    with op.batch_alter_table('catalogue', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_catalogue_state'))
        batch_op.drop_index(batch_op.f('ix_catalogue_org_unit_id'))
        batch_op.drop_index(batch_op.f('ix_catalogue_cycle_start'))

    op.drop_table('catalogue')
