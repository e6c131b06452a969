"""patients: "break the glass" grants (a clinician's reasoned, time-limited access without a care
relationship)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 06:00:00
"""

import sqlalchemy as sa
from alembic import op

from zhiyi.core.db import UTCDateTime


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('patient_access_grant',
    sa.Column('account_id', sa.Uuid(), nullable=False),
    sa.Column('actor_name', sa.String(length=100), nullable=False),
    sa.Column('actor_roles', sa.String(length=100), nullable=False),
    sa.Column('patient_id', sa.Uuid(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('granted_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_patient_access_grant_account_id_account')),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], name=op.f('fk_patient_access_grant_patient_id_patient')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patient_access_grant'))
    )
    with op.batch_alter_table('patient_access_grant', schema=None) as batch_op:
        batch_op.create_index('ix_patient_access_grant_account_patient', ['account_id', 'patient_id', 'expires_at'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_patient_access_grant_granted_at'), ['granted_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_patient_access_grant_patient_id'), ['patient_id'], unique=False)


def downgrade() -> None:
    op.drop_table('patient_access_grant')
