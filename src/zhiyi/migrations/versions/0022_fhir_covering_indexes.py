"""fhir: the token and reference indexes end in res_pk (and the reference index holds the referrer's type),
so a search reads its resources from the index alone

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-08 02:20:00
"""

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("fhir_ix_token", schema=None) as batch_op:
        batch_op.drop_index("ix_fhir_ix_token_code")
        batch_op.create_index(
            "ix_fhir_ix_token_code", ["type", "param", "code", "system", "res_pk"], unique=False
        )
    with op.batch_alter_table("fhir_ix_reference", schema=None) as batch_op:
        batch_op.drop_index("ix_fhir_ix_reference_target")
        batch_op.create_index(
            "ix_fhir_ix_reference_target",
            ["target_id", "target_type", "param", "type", "res_pk"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("fhir_ix_reference", schema=None) as batch_op:
        batch_op.drop_index("ix_fhir_ix_reference_target")
        batch_op.create_index(
            "ix_fhir_ix_reference_target", ["target_id", "target_type", "param"], unique=False
        )
    with op.batch_alter_table("fhir_ix_token", schema=None) as batch_op:
        batch_op.drop_index("ix_fhir_ix_token_code")
        batch_op.create_index("ix_fhir_ix_token_code", ["type", "param", "code", "system"], unique=False)
