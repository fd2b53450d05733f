"""rules: timers, tasks, deals, outbox and the rule log

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-26 07:19:54.374581
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('deal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=256), nullable=False),
    sa.Column('stage', sa.String(length=32), nullable=False),
    sa.Column('previous_stage', sa.String(length=32), nullable=False),
    sa.Column('amount', sa.String(length=32), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('owner', sa.String(length=320), nullable=False),
    sa.Column('thread_key', sa.String(length=512), nullable=True),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('company_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=80), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], name=op.f('fk_deal_company_id_company'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], name=op.f('fk_deal_contact_id_contact'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deal'))
    )
    with op.batch_alter_table('deal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deal_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_deal_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_deal_thread_key'), ['thread_key'], unique=False)

    op.create_table('timer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dedupe_key', sa.String(length=700), nullable=False),
    sa.Column('rule', sa.String(length=80), nullable=False),
    sa.Column('event', sa.String(length=24), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=False),
    sa.Column('event_at', sa.DateTime(), nullable=False),
    sa.Column('armed_at', sa.DateTime(), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('outcome', sa.Text(), nullable=False),
    sa.Column('lease_owner', sa.String(length=128), nullable=True),
    sa.Column('lease_until', sa.DateTime(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('interaction_id', sa.Integer(), nullable=True),
    sa.Column('cancelled_by_id', sa.Integer(), nullable=True),
    sa.Column('thread_key', sa.String(length=512), nullable=True),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('deal_id', sa.Integer(), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['cancelled_by_id'], ['interaction.id'], name=op.f('fk_timer_cancelled_by_id_interaction'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], name=op.f('fk_timer_contact_id_contact'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['deal_id'], ['deal.id'], name=op.f('fk_timer_deal_id_deal'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['interaction_id'], ['interaction.id'], name=op.f('fk_timer_interaction_id_interaction'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_timer')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_timer_dedupe_key'))
    )
    with op.batch_alter_table('timer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_timer_cancelled_by_id'), ['cancelled_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_timer_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_timer_deal_id'), ['deal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_timer_interaction_id'), ['interaction_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_timer_rule'), ['rule'], unique=False)
        batch_op.create_index('ix_timer_status_due_at', ['status', 'due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_timer_thread_key'), ['thread_key'], unique=False)

    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=720), nullable=False),
    sa.Column('timer_id', sa.Integer(), nullable=True),
    sa.Column('rule', sa.String(length=80), nullable=False),
    sa.Column('action_index', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('phase', sa.String(length=16), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=True),
    sa.Column('lease_owner', sa.String(length=128), nullable=True),
    sa.Column('lease_until', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('delivered_at', sa.DateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['timer_id'], ['timer.id'], name=op.f('fk_outbox_timer_id_timer'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_outbox_idempotency_key'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_status_next_attempt_at', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_timer_id'), ['timer_id'], unique=False)

    op.create_table('rule_firing',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rule', sa.String(length=80), nullable=False),
    sa.Column('decision', sa.String(length=24), nullable=False),
    sa.Column('timer_id', sa.Integer(), nullable=True),
    sa.Column('interaction_id', sa.Integer(), nullable=True),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['interaction_id'], ['interaction.id'], name=op.f('fk_rule_firing_interaction_id_interaction'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['timer_id'], ['timer.id'], name=op.f('fk_rule_firing_timer_id_timer'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rule_firing'))
    )
    with op.batch_alter_table('rule_firing', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rule_firing_interaction_id'), ['interaction_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_rule_firing_rule'), ['rule'], unique=False)
        batch_op.create_index(batch_op.f('ix_rule_firing_timer_id'), ['timer_id'], unique=False)

    op.create_table('task',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('timer_id', sa.Integer(), nullable=True),
    sa.Column('action_index', sa.Integer(), nullable=False),
    sa.Column('rule', sa.String(length=80), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('assignee', sa.String(length=320), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('done_at', sa.DateTime(), nullable=True),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('interaction_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], name=op.f('fk_task_contact_id_contact'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['interaction_id'], ['interaction.id'], name=op.f('fk_task_interaction_id_interaction'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['timer_id'], ['timer.id'], name=op.f('fk_task_timer_id_timer'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task')),
    sa.UniqueConstraint('timer_id', 'action_index', name=op.f('uq_task_timer_id_action_index'))
    )
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_task_interaction_id'), ['interaction_id'], unique=False)
        batch_op.create_index('ix_task_status_due_at', ['status', 'due_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('task', schema=None) as batch_op:
        batch_op.drop_index('ix_task_status_due_at')
        batch_op.drop_index(batch_op.f('ix_task_interaction_id'))
        batch_op.drop_index(batch_op.f('ix_task_contact_id'))

    op.drop_table('task')
    with op.batch_alter_table('rule_firing', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rule_firing_timer_id'))
        batch_op.drop_index(batch_op.f('ix_rule_firing_rule'))
        batch_op.drop_index(batch_op.f('ix_rule_firing_interaction_id'))

    op.drop_table('rule_firing')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_timer_id'))
        batch_op.drop_index('ix_outbox_status_next_attempt_at')

    op.drop_table('outbox')
    with op.batch_alter_table('timer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_timer_thread_key'))
        batch_op.drop_index('ix_timer_status_due_at')
        batch_op.drop_index(batch_op.f('ix_timer_rule'))
        batch_op.drop_index(batch_op.f('ix_timer_interaction_id'))
        batch_op.drop_index(batch_op.f('ix_timer_deal_id'))
        batch_op.drop_index(batch_op.f('ix_timer_contact_id'))
        batch_op.drop_index(batch_op.f('ix_timer_cancelled_by_id'))

    op.drop_table('timer')
    with op.batch_alter_table('deal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deal_thread_key'))
        batch_op.drop_index(batch_op.f('ix_deal_contact_id'))
        batch_op.drop_index(batch_op.f('ix_deal_company_id'))

    op.drop_table('deal')
