"""meetings: index interaction (kind, ends_at) for the meeting.ended check that follows every sync

Revision ID: 0007
Revises: 0002

Without it that check scanned every stored interaction (7 ms per sync at 50,000 emails, growing with the mailbox).
"""
from alembic import op

revision = "0007"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("interaction", schema=None) as batch_op:
        batch_op.create_index("ix_interaction_kind_ends_at", ["kind", "ends_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("interaction", schema=None) as batch_op:
        batch_op.drop_index("ix_interaction_kind_ends_at")
