"""matching: unknown-address review queue, stored blocklist, duplicate candidates, not-duplicate memory, merge log,
contact phones

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-27 09:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('blocked_address',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pattern', sa.String(length=320), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_blocked_address')),
    sa.UniqueConstraint('pattern', name=op.f('uq_blocked_address_pattern'))
    )
    op.create_table('duplicate_candidate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('a_id', sa.Integer(), nullable=False),
    sa.Column('b_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Double(), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('found_at', sa.DateTime(), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('merge_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_duplicate_candidate')),
    sa.UniqueConstraint('kind', 'a_id', 'b_id', name=op.f('uq_duplicate_candidate_kind_a_id_b_id'))
    )
    with op.batch_alter_table('duplicate_candidate', schema=None) as batch_op:
        batch_op.create_index('ix_duplicate_candidate_kind_status', ['kind', 'status'], unique=False)

    op.create_table('merge_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('keep_id', sa.Integer(), nullable=False),
    sa.Column('other_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('auto', sa.Boolean(), nullable=False),
    sa.Column('score', sa.Double(), nullable=True),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.Column('undone_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_merge_log'))
    )
    with op.batch_alter_table('merge_log', schema=None) as batch_op:
        batch_op.create_index('ix_merge_log_kind_keep_id', ['kind', 'keep_id'], unique=False)
        batch_op.create_index('ix_merge_log_kind_other_id', ['kind', 'other_id'], unique=False)

    op.create_table('not_duplicate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('a_id', sa.Integer(), nullable=False),
    sa.Column('b_id', sa.Integer(), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_not_duplicate')),
    sa.UniqueConstraint('kind', 'a_id', 'b_id', name=op.f('uq_not_duplicate_kind_a_id_b_id'))
    )
    op.create_table('contact_phone',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], name=op.f('fk_contact_phone_contact_id_contact'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_phone')),
    sa.UniqueConstraint('contact_id', 'phone', name=op.f('uq_contact_phone_contact_id_phone'))
    )
    with op.batch_alter_table('contact_phone', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_phone_contact_id'), ['contact_id'], unique=False)

    op.create_table('review_unknown',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=320), nullable=False),
    sa.Column('name', sa.String(length=256), nullable=False),
    sa.Column('domain', sa.String(length=253), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('sent_count', sa.Integer(), nullable=False),
    sa.Column('first_seen', sa.DateTime(), nullable=False),
    sa.Column('last_seen', sa.DateTime(), nullable=False),
    sa.Column('last_interaction_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=128), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('company_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], name=op.f('fk_review_unknown_company_id_company'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], name=op.f('fk_review_unknown_contact_id_contact'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['last_interaction_id'], ['interaction.id'], name=op.f('fk_review_unknown_last_interaction_id_interaction'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_unknown')),
    sa.UniqueConstraint('address', name=op.f('uq_review_unknown_address'))
    )
    with op.batch_alter_table('review_unknown', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_unknown_domain'), ['domain'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_unknown_status'), ['status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('review_unknown', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_unknown_status'))
        batch_op.drop_index(batch_op.f('ix_review_unknown_domain'))

    op.drop_table('review_unknown')
    with op.batch_alter_table('contact_phone', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_phone_contact_id'))

    op.drop_table('contact_phone')
    op.drop_table('not_duplicate')
    with op.batch_alter_table('merge_log', schema=None) as batch_op:
        batch_op.drop_index('ix_merge_log_kind_other_id')
        batch_op.drop_index('ix_merge_log_kind_keep_id')

    op.drop_table('merge_log')
    with op.batch_alter_table('duplicate_candidate', schema=None) as batch_op:
        batch_op.drop_index('ix_duplicate_candidate_kind_status')

    op.drop_table('duplicate_candidate')
    op.drop_table('blocked_address')
