"""core: the audit trail read by date and by actor (the privacy officer's page)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 14:00:00
"""

from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_audit_event_at', 'audit_event', ['at'])
    op.create_index('ix_audit_event_actor_at', 'audit_event', ['actor_account_id', 'at'])


def downgrade() -> None:
    op.drop_index('ix_audit_event_actor_at', table_name='audit_event')
    op.drop_index('ix_audit_event_at', table_name='audit_event')
