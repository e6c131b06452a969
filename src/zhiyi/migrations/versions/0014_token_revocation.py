"""identity: access tokens are checked against their account (token version, deletion) and their
sign-in's refresh-token family on every request

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 05:10:00
"""

import sqlalchemy as sa
from alembic import op


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('token_version', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('refresh_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('family_id', sa.Uuid(), nullable=True))
    op.execute("UPDATE refresh_token SET family_id = id")  # each earlier token its own family
    with op.batch_alter_table('refresh_token', schema=None) as batch_op:
        batch_op.alter_column('family_id', existing_type=sa.Uuid(), nullable=False)
        batch_op.create_index(batch_op.f('ix_refresh_token_family_id'), ['family_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('refresh_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_refresh_token_family_id'))
        batch_op.drop_column('family_id')
    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.drop_column('deleted_at')
        batch_op.drop_column('token_version')
