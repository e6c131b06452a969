"""scheduling: the sold-out question goes (measured after the rush's move into one package, the rush ran
3-7% faster without it: the one-statement booking answers "full" itself; docs/benchmarks.md, 2026-12-07)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 17:30:00
"""

from importlib import import_module

from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION scheduling_ask_sold_out(uuid, varchar, varchar, uuid, uuid, timestamptz)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(import_module("zhiyi.migrations.versions.0013_sold_out_question_knows_the_patient").ASK)
