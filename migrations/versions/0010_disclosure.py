"""disclosure: stored results, publications, published indicators

Revision ID: 0010_disclosure
Revises: 0009_catalogue
Create Date: 2026-11-25 18:13:14.415966

"""
from alembic import op
import sqlalchemy as sa

import core.money


# revision identifiers, used by Alembic.
revision = '0010_disclosure'
down_revision = '0009_catalogue'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('disclosure_result',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('evaluation_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('object_kind', sa.String(length=20), nullable=False),
    sa.Column('fiscal_year', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('budget_item_ids', sa.JSON(), nullable=False),
    sa.Column('amount', core.money.Money(precision=18, scale=2), nullable=False),
    sa.Column('score', sa.Numeric(precision=6, scale=2), nullable=False),
    sa.Column('grade', sa.String(length=2), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('finalized_at', sa.DateTime(), nullable=False),
    sa.Column('org_unit_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_unit.id'], name=op.f('fk_disclosure_result_org_unit_id_org_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disclosure_result')),
    sa.UniqueConstraint('kind', 'evaluation_id', name=op.f('uq_disclosure_result_kind'))
    )
    with op.batch_alter_table('disclosure_result', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disclosure_result_fiscal_year'), ['fiscal_year'], unique=False)
        batch_op.create_index(batch_op.f('ix_disclosure_result_org_unit_id'), ['org_unit_id'], unique=False)

    op.create_table('publication',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('ITEM_TARGETS', 'POLICY_PILOT', 'EVALUATION_RESULT', name='publicationkind', native_enum=False, length=20), nullable=False),
    sa.Column('fiscal_year', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('budget_item_id', sa.Integer(), nullable=True),
    sa.Column('result_id', sa.Integer(), nullable=True),
    sa.Column('subject', sa.String(length=40), nullable=False),
    sa.Column('published_at', sa.DateTime(), nullable=True),
    sa.Column('item_code', sa.String(length=200), nullable=True),
    sa.Column('title', sa.String(length=300), nullable=True),
    sa.Column('amount', core.money.Money(precision=18, scale=2), nullable=True),
    sa.Column('goal', sa.Text(), nullable=True),
    sa.Column('evaluation_kind', sa.String(length=20), nullable=True),
    sa.Column('score', sa.Numeric(precision=6, scale=2), nullable=True),
    sa.Column('grade', sa.String(length=2), nullable=True),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('org_unit_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('DRAFT', 'SUBMITTED', 'RETURNED', 'APPROVED', name='state', native_enum=False, length=20), nullable=False),
    sa.Column('review_level', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['budget_item_id'], ['budget_item.id'], name=op.f('fk_publication_budget_item_id_budget_item'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['department_id'], ['org_unit.id'], name=op.f('fk_publication_department_id_org_unit')),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_unit.id'], name=op.f('fk_publication_org_unit_id_org_unit')),
    sa.ForeignKeyConstraint(['result_id'], ['disclosure_result.id'], name=op.f('fk_publication_result_id_disclosure_result'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_publication')),
    sa.UniqueConstraint('kind', 'subject', name=op.f('uq_publication_kind'))
    )
    with op.batch_alter_table('publication', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_publication_budget_item_id'), ['budget_item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_publication_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_publication_fiscal_year'), ['fiscal_year'], unique=False)
        batch_op.create_index(batch_op.f('ix_publication_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_publication_org_unit_id'), ['org_unit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_publication_published_at'), ['published_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_publication_result_id'), ['result_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_publication_state'), ['state'], unique=False)

    op.create_table('published_indicator',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('publication_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('level1', sa.String(length=20), nullable=False),
    sa.Column('level2', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('comparator', sa.String(length=20), nullable=False),
    sa.Column('target_value', sa.String(length=200), nullable=False),
    sa.Column('unit', sa.String(length=40), nullable=True),
    sa.Column('org_unit_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_unit.id'], name=op.f('fk_published_indicator_org_unit_id_org_unit')),
    sa.ForeignKeyConstraint(['publication_id'], ['publication.id'], name=op.f('fk_published_indicator_publication_id_publication'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_published_indicator'))
    )
    with op.batch_alter_table('published_indicator', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_published_indicator_org_unit_id'), ['org_unit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_published_indicator_publication_id'), ['publication_id'], unique=False)


def downgrade():
    with op.batch_alter_table('published_indicator', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_published_indicator_publication_id'))
        batch_op.drop_index(batch_op.f('ix_published_indicator_org_unit_id'))

    op.drop_table('published_indicator')

    with op.batch_alter_table('publication', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_publication_state'))
        batch_op.drop_index(batch_op.f('ix_publication_result_id'))
        batch_op.drop_index(batch_op.f('ix_publication_published_at'))
        batch_op.drop_index(batch_op.f('ix_publication_org_unit_id'))
        batch_op.drop_index(batch_op.f('ix_publication_kind'))
        batch_op.drop_index(batch_op.f('ix_publication_fiscal_year'))
        batch_op.drop_index(batch_op.f('ix_publication_department_id'))
        batch_op.drop_index(batch_op.f('ix_publication_budget_item_id'))

    op.drop_table('publication')

    with op.batch_alter_table('disclosure_result', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_disclosure_result_org_unit_id'))
        batch_op.drop_index(batch_op.f('ix_disclosure_result_fiscal_year'))

    op.drop_table('disclosure_result')
