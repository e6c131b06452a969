"""scheduling: the one-statement booking takes its session's day, as book_slot does (a time past
midnight in an evening clinic is that clinic's day; a move that held the place's lock has committed)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 16:30:00
"""

from importlib import import_module

from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

_0017 = import_module("zhiyi.migrations.versions.0017_booking_overlap").BOOK
_SLOTS_DAY = "        day := (taken.starts_at AT TIME ZONE p_zone)::date;\n"
# a statement after the place was taken sees the session as a move committed it (READ COMMITTED)
_SESSIONS_DAY = "        SELECT cs.session_on INTO day FROM clinic_session cs WHERE cs.id = p_session;\n"
assert _0017.count(_SLOTS_DAY) == 1
BOOK = _0017.replace(_SLOTS_DAY, _SESSIONS_DAY)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(BOOK)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_0017)
