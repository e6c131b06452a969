"""triage: one open request to the service desk per account (a partial unique index)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 21:40:00
"""

import sqlalchemy as sa
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('triage_handover', schema=None) as batch_op:
        batch_op.create_index('uq_triage_handover_open_account', ['account_id'], unique=True,
                              sqlite_where=sa.text("status != 'closed'"), postgresql_where=sa.text("status != 'closed'"))


def downgrade() -> None:
    with op.batch_alter_table('triage_handover', schema=None) as batch_op:
        batch_op.drop_index('uq_triage_handover_open_account', sqlite_where=sa.text("status != 'closed'"),
                            postgresql_where=sa.text("status != 'closed'"))
