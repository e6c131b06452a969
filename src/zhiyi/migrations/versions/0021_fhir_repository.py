"""fhir: the clinical data repository (resources, every version, the search index, imports)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 19:27:45.571169
"""

from alembic import op
import sqlalchemy as sa
import zhiyi.core.db
from sqlalchemy.dialects import postgresql

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('fhir_import',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('source', sa.String(length=1000), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('started_at', zhiyi.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', zhiyi.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('loaded', sa.Integer(), nullable=False),
    sa.Column('failed', sa.Integer(), nullable=False),
    sa.Column('errors', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fhir_import')),
    sa.UniqueConstraint('fingerprint', name=op.f('uq_fhir_import_fingerprint'))
    )
    with op.batch_alter_table('fhir_import', schema=None) as batch_op:
        batch_op.create_index('ix_fhir_import_started', ['started_at'], unique=False)

    op.create_table('fhir_resource',
    sa.Column('pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('type', sa.String(length=64), nullable=False),
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', zhiyi.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('owner', sa.String(length=32), nullable=True),
    sa.PrimaryKeyConstraint('pk', name=op.f('pk_fhir_resource')),
    sa.UniqueConstraint('type', 'id', name=op.f('uq_fhir_resource_type_id'))
    )
    op.create_table('fhir_ix_composite',
    sa.Column('res_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('n', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('type', sa.String(length=64), nullable=False),
    sa.Column('param', sa.String(length=64), nullable=False),
    sa.Column('system', sa.String(length=512).with_variant(sa.String(length=512, collation='C'), 'postgresql'), nullable=True),
    sa.Column('code', sa.String(length=512).with_variant(sa.String(length=512, collation='C'), 'postgresql'), nullable=True),
    sa.Column('v_system', sa.String(length=512).with_variant(sa.String(length=512, collation='C'), 'postgresql'), nullable=True),
    sa.Column('v_code', sa.String(length=512).with_variant(sa.String(length=512, collation='C'), 'postgresql'), nullable=True),
    sa.Column('v_number', sa.Numeric(), nullable=True),
    sa.Column('v_unit', sa.String(length=512).with_variant(sa.String(length=512, collation='C'), 'postgresql'), nullable=True),
    sa.Column('v_low', sa.BigInteger(), nullable=True),
    sa.Column('v_high', sa.BigInteger(), nullable=True),
    sa.Column('v_text', sa.String(length=512).with_variant(sa.String(length=512, collation='C'), 'postgresql'), nullable=True),
    sa.ForeignKeyConstraint(['res_pk'], ['fhir_resource.pk'], name=op.f('fk_fhir_ix_composite_res_pk_fhir_resource'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('res_pk', 'n', name=op.f('pk_fhir_ix_composite'))
    )
    with op.batch_alter_table('fhir_ix_composite', schema=None) as batch_op:
        batch_op.create_index('ix_fhir_ix_composite_code', ['type', 'param', 'code', 'system'], unique=False)

    op.create_table('fhir_ix_date',
    sa.Column('res_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('n', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('type', sa.String(length=64), nullable=False),
    sa.Column('param', sa.String(length=64), nullable=False),
    sa.Column('low', sa.BigInteger(), nullable=False),
    sa.Column('high', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['res_pk'], ['fhir_resource.pk'], name=op.f('fk_fhir_ix_date_res_pk_fhir_resource'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('res_pk', 'n', name=op.f('pk_fhir_ix_date'))
    )
    with op.batch_alter_table('fhir_ix_date', schema=None) as batch_op:
        batch_op.create_index('ix_fhir_ix_date_range', ['type', 'param', 'low', 'high'], unique=False)

    op.create_table('fhir_ix_number',
    sa.Column('res_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('n', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('type', sa.String(length=64), nullable=False),
    sa.Column('param', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Numeric(), nullable=False),
    sa.ForeignKeyConstraint(['res_pk'], ['fhir_resource.pk'], name=op.f('fk_fhir_ix_number_res_pk_fhir_resource'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('res_pk', 'n', name=op.f('pk_fhir_ix_number'))
    )
    with op.batch_alter_table('fhir_ix_number', schema=None) as batch_op:
        batch_op.create_index('ix_fhir_ix_number_value', ['type', 'param', 'value'], unique=False)

    op.create_table('fhir_ix_quantity',
    sa.Column('res_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('n', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('type', sa.String(length=64), nullable=False),
    sa.Column('param', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Numeric(), nullable=False),
    sa.Column('system', sa.String(length=512).with_variant(sa.String(length=512, collation='C'), 'postgresql'), nullable=True),
    sa.Column('code', sa.String(length=512).with_variant(sa.String(length=512, collation='C'), 'postgresql'), nullable=True),
    sa.Column('unit', sa.String(length=512).with_variant(sa.String(length=512, collation='C'), 'postgresql'), nullable=True),
    sa.ForeignKeyConstraint(['res_pk'], ['fhir_resource.pk'], name=op.f('fk_fhir_ix_quantity_res_pk_fhir_resource'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('res_pk', 'n', name=op.f('pk_fhir_ix_quantity'))
    )
    with op.batch_alter_table('fhir_ix_quantity', schema=None) as batch_op:
        batch_op.create_index('ix_fhir_ix_quantity_value', ['type', 'param', 'value'], unique=False)

    op.create_table('fhir_ix_reference',
    sa.Column('res_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('n', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('type', sa.String(length=64), nullable=False),
    sa.Column('param', sa.String(length=64), nullable=False),
    sa.Column('target_type', sa.String(length=64), nullable=True),
    sa.Column('target_id', sa.String(length=64), nullable=True),
    sa.Column('url', sa.String(length=512).with_variant(sa.String(length=512, collation='C'), 'postgresql'), nullable=True),
    sa.ForeignKeyConstraint(['res_pk'], ['fhir_resource.pk'], name=op.f('fk_fhir_ix_reference_res_pk_fhir_resource'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('res_pk', 'n', name=op.f('pk_fhir_ix_reference'))
    )
    with op.batch_alter_table('fhir_ix_reference', schema=None) as batch_op:
        batch_op.create_index('ix_fhir_ix_reference_target', ['target_id', 'target_type', 'param'], unique=False)

    op.create_table('fhir_ix_string',
    sa.Column('res_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('n', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('type', sa.String(length=64), nullable=False),
    sa.Column('param', sa.String(length=64), nullable=False),
    sa.Column('folded', sa.String(length=512).with_variant(sa.String(length=512, collation='C'), 'postgresql'), nullable=False),
    sa.Column('exact', sa.String(length=512).with_variant(sa.String(length=512, collation='C'), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['res_pk'], ['fhir_resource.pk'], name=op.f('fk_fhir_ix_string_res_pk_fhir_resource'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('res_pk', 'n', name=op.f('pk_fhir_ix_string'))
    )
    with op.batch_alter_table('fhir_ix_string', schema=None) as batch_op:
        batch_op.create_index('ix_fhir_ix_string_value', ['type', 'param', 'folded'], unique=False)

    op.create_table('fhir_ix_token',
    sa.Column('res_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('n', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('type', sa.String(length=64), nullable=False),
    sa.Column('param', sa.String(length=64), nullable=False),
    sa.Column('system', sa.String(length=512).with_variant(sa.String(length=512, collation='C'), 'postgresql'), nullable=True),
    sa.Column('code', sa.String(length=512).with_variant(sa.String(length=512, collation='C'), 'postgresql'), nullable=True),
    sa.Column('text', sa.String(length=512).with_variant(sa.String(length=512, collation='C'), 'postgresql'), nullable=True),
    sa.ForeignKeyConstraint(['res_pk'], ['fhir_resource.pk'], name=op.f('fk_fhir_ix_token_res_pk_fhir_resource'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('res_pk', 'n', name=op.f('pk_fhir_ix_token'))
    )
    with op.batch_alter_table('fhir_ix_token', schema=None) as batch_op:
        batch_op.create_index('ix_fhir_ix_token_code', ['type', 'param', 'code', 'system'], unique=False)

    op.create_table('fhir_ix_uri',
    sa.Column('res_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('n', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('type', sa.String(length=64), nullable=False),
    sa.Column('param', sa.String(length=64), nullable=False),
    sa.Column('uri', sa.String(length=512).with_variant(sa.String(length=512, collation='C'), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['res_pk'], ['fhir_resource.pk'], name=op.f('fk_fhir_ix_uri_res_pk_fhir_resource'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('res_pk', 'n', name=op.f('pk_fhir_ix_uri'))
    )
    with op.batch_alter_table('fhir_ix_uri', schema=None) as batch_op:
        batch_op.create_index('ix_fhir_ix_uri_value', ['type', 'param', 'uri'], unique=False)

    op.create_table('fhir_version',
    sa.Column('res_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('type', sa.String(length=64), nullable=False),
    sa.Column('updated_at', zhiyi.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('method', sa.String(length=8), nullable=False),
    sa.Column('content', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.ForeignKeyConstraint(['res_pk'], ['fhir_resource.pk'], name=op.f('fk_fhir_version_res_pk_fhir_resource'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('res_pk', 'version', name=op.f('pk_fhir_version'))
    )
    with op.batch_alter_table('fhir_version', schema=None) as batch_op:
        batch_op.create_index('ix_fhir_version_type_updated', ['type', 'updated_at'], unique=False)
        batch_op.create_index('ix_fhir_version_updated', ['updated_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('fhir_version', schema=None) as batch_op:
        batch_op.drop_index('ix_fhir_version_updated')
        batch_op.drop_index('ix_fhir_version_type_updated')

    op.drop_table('fhir_version')
    with op.batch_alter_table('fhir_ix_uri', schema=None) as batch_op:
        batch_op.drop_index('ix_fhir_ix_uri_value')

    op.drop_table('fhir_ix_uri')
    with op.batch_alter_table('fhir_ix_token', schema=None) as batch_op:
        batch_op.drop_index('ix_fhir_ix_token_code')

    op.drop_table('fhir_ix_token')
    with op.batch_alter_table('fhir_ix_string', schema=None) as batch_op:
        batch_op.drop_index('ix_fhir_ix_string_value')

    op.drop_table('fhir_ix_string')
    with op.batch_alter_table('fhir_ix_reference', schema=None) as batch_op:
        batch_op.drop_index('ix_fhir_ix_reference_target')

    op.drop_table('fhir_ix_reference')
    with op.batch_alter_table('fhir_ix_quantity', schema=None) as batch_op:
        batch_op.drop_index('ix_fhir_ix_quantity_value')

    op.drop_table('fhir_ix_quantity')
    with op.batch_alter_table('fhir_ix_number', schema=None) as batch_op:
        batch_op.drop_index('ix_fhir_ix_number_value')

    op.drop_table('fhir_ix_number')
    with op.batch_alter_table('fhir_ix_date', schema=None) as batch_op:
        batch_op.drop_index('ix_fhir_ix_date_range')

    op.drop_table('fhir_ix_date')
    with op.batch_alter_table('fhir_ix_composite', schema=None) as batch_op:
        batch_op.drop_index('ix_fhir_ix_composite_code')

    op.drop_table('fhir_ix_composite')
    op.drop_table('fhir_resource')
    with op.batch_alter_table('fhir_import', schema=None) as batch_op:
        batch_op.drop_index('ix_fhir_import_started')

    op.drop_table('fhir_import')
