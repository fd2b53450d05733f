"""initial schema: sync state, interactions, contacts

Revision ID: 0001
Revises: 
Create Date: 2026-11-26 07:02:12.873936
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('config_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('lease_owner', sa.String(length=128), nullable=True),
    sa.Column('lease_until', sa.DateTime(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account')),
    sa.UniqueConstraint('name', name=op.f('uq_account_name'))
    )
    op.create_table('company',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=256), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('street', sa.String(length=256), nullable=False),
    sa.Column('postcode', sa.String(length=16), nullable=False),
    sa.Column('city', sa.String(length=128), nullable=False),
    sa.Column('siren', sa.String(length=16), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('merged_into_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['merged_into_id'], ['company.id'], name=op.f('fk_company_merged_into_id_company'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_company'))
    )
    op.create_table('interaction',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('identity_key', sa.String(length=512), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('occurred_at', sa.DateTime(), nullable=False),
    sa.Column('ends_at', sa.DateTime(), nullable=True),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('snippet', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('direction', sa.String(length=16), nullable=False),
    sa.Column('thread_key', sa.String(length=512), nullable=False),
    sa.Column('message_id', sa.String(length=512), nullable=True),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('first_seen_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('removed_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interaction')),
    sa.UniqueConstraint('identity_key', name=op.f('uq_interaction_identity_key'))
    )
    with op.batch_alter_table('interaction', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_interaction_message_id'), ['message_id'], unique=False)
        batch_op.create_index('ix_interaction_occurred_at_id', ['occurred_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_interaction_thread_key'), ['thread_key'], unique=False)

    op.create_table('meta',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_meta'))
    )
    op.create_table('company_domain',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('domain', sa.String(length=253), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], name=op.f('fk_company_domain_company_id_company'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_company_domain')),
    sa.UniqueConstraint('domain', name=op.f('uq_company_domain_domain'))
    )
    with op.batch_alter_table('company_domain', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_company_domain_company_id'), ['company_id'], unique=False)

    op.create_table('contact',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('display_name', sa.String(length=256), nullable=False),
    sa.Column('first_name', sa.String(length=128), nullable=False),
    sa.Column('last_name', sa.String(length=128), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=128), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('merged_into_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], name=op.f('fk_contact_company_id_company'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['merged_into_id'], ['contact.id'], name=op.f('fk_contact_merged_into_id_contact'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact'))
    )
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_company_id'), ['company_id'], unique=False)

    op.create_table('sync_target',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=512), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('display', sa.String(length=512), nullable=False),
    sa.Column('cursor', sa.Text(), nullable=False),
    sa.Column('stage', sa.String(length=24), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('full_listing', sa.Boolean(), nullable=False),
    sa.Column('listing_generation', sa.Integer(), nullable=False),
    sa.Column('stage_changed_at', sa.DateTime(), nullable=True),
    sa.Column('last_success_at', sa.DateTime(), nullable=True),
    sa.Column('last_attempt_at', sa.DateTime(), nullable=True),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=True),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('error_kind', sa.String(length=16), nullable=False),
    sa.Column('items_synced', sa.Integer(), nullable=False),
    sa.Column('items_skipped', sa.Integer(), nullable=False),
    sa.Column('known_items', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_sync_target_account_id_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_target')),
    sa.UniqueConstraint('account_id', 'name', name=op.f('uq_sync_target_account_id_name'))
    )
    op.create_table('contact_address',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=320), nullable=False),
    sa.Column('is_primary', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], name=op.f('fk_contact_address_contact_id_contact'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_address')),
    sa.UniqueConstraint('address', name=op.f('uq_contact_address_address'))
    )
    with op.batch_alter_table('contact_address', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_address_contact_id'), ['contact_id'], unique=False)

    op.create_table('participant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('interaction_id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=320), nullable=False),
    sa.Column('domain', sa.String(length=253), nullable=False),
    sa.Column('name', sa.String(length=256), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('is_internal', sa.Boolean(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('contact_reason', sa.String(length=24), nullable=True),
    sa.Column('company_id', sa.Integer(), nullable=True),
    sa.Column('company_reason', sa.String(length=24), nullable=True),
    sa.Column('partstat', sa.String(length=24), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['company.id'], name=op.f('fk_participant_company_id_company'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], name=op.f('fk_participant_contact_id_contact'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['interaction_id'], ['interaction.id'], name=op.f('fk_participant_interaction_id_interaction'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_participant')),
    sa.UniqueConstraint('interaction_id', 'address', 'role', name=op.f('uq_participant_interaction_id_address_role'))
    )
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_participant_address'), ['address'], unique=False)
        batch_op.create_index(batch_op.f('ix_participant_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_participant_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_participant_domain'), ['domain'], unique=False)

    op.create_table('pending_ref',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('location', sa.String(length=1024), nullable=False),
    sa.Column('key', sa.String(length=1024), nullable=False),
    sa.Column('version', sa.String(length=256), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['target_id'], ['sync_target.id'], name=op.f('fk_pending_ref_target_id_sync_target'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pending_ref')),
    sa.UniqueConstraint('target_id', 'location', name=op.f('uq_pending_ref_target_id_location'))
    )
    with op.batch_alter_table('pending_ref', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pending_ref_target_id'), ['target_id'], unique=False)

    op.create_table('sighting',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('interaction_id', sa.Integer(), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('location', sa.String(length=1024), nullable=False),
    sa.Column('item_location', sa.String(length=1024), nullable=False),
    sa.Column('version', sa.String(length=256), nullable=False),
    sa.Column('seen_at', sa.DateTime(), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['interaction_id'], ['interaction.id'], name=op.f('fk_sighting_interaction_id_interaction'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['target_id'], ['sync_target.id'], name=op.f('fk_sighting_target_id_sync_target'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sighting')),
    sa.UniqueConstraint('location', name=op.f('uq_sighting_location'))
    )
    with op.batch_alter_table('sighting', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sighting_interaction_id'), ['interaction_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sighting_item_location'), ['item_location'], unique=False)
        batch_op.create_index(batch_op.f('ix_sighting_target_id'), ['target_id'], unique=False)

    op.create_table('skipped_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('location', sa.String(length=1024), nullable=False),
    sa.Column('version', sa.String(length=256), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.String(length=128), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('message_id', sa.String(length=512), nullable=True),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('skipped_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['target_id'], ['sync_target.id'], name=op.f('fk_skipped_item_target_id_sync_target'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_skipped_item')),
    sa.UniqueConstraint('location', name=op.f('uq_skipped_item_location'))
    )
    with op.batch_alter_table('skipped_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_skipped_item_message_id'), ['message_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_skipped_item_target_id'), ['target_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('skipped_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_skipped_item_target_id'))
        batch_op.drop_index(batch_op.f('ix_skipped_item_message_id'))

    op.drop_table('skipped_item')
    with op.batch_alter_table('sighting', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sighting_target_id'))
        batch_op.drop_index(batch_op.f('ix_sighting_item_location'))
        batch_op.drop_index(batch_op.f('ix_sighting_interaction_id'))

    op.drop_table('sighting')
    with op.batch_alter_table('pending_ref', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pending_ref_target_id'))

    op.drop_table('pending_ref')
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_participant_domain'))
        batch_op.drop_index(batch_op.f('ix_participant_contact_id'))
        batch_op.drop_index(batch_op.f('ix_participant_company_id'))
        batch_op.drop_index(batch_op.f('ix_participant_address'))

    op.drop_table('participant')
    with op.batch_alter_table('contact_address', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_address_contact_id'))

    op.drop_table('contact_address')
    op.drop_table('sync_target')
    with op.batch_alter_table('contact', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_company_id'))

    op.drop_table('contact')
    with op.batch_alter_table('company_domain', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_company_domain_company_id'))

    op.drop_table('company_domain')
    op.drop_table('meta')
    with op.batch_alter_table('interaction', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_interaction_thread_key'))
        batch_op.drop_index('ix_interaction_occurred_at_id')
        batch_op.drop_index(batch_op.f('ix_interaction_message_id'))

    op.drop_table('interaction')
    op.drop_table('company')
    op.drop_table('account')
