"""audit: the reason an actor gave (a full ID number shown, a record opened without a care relationship)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 05:40:00
"""

import sqlalchemy as sa
from alembic import op


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a plain ADD COLUMN on both backends: a batch copy would drop the table's append-only triggers
    op.add_column('audit_event', sa.Column('reason', sa.String(length=200), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE audit_event DROP COLUMN reason")
