"""scheduling: the short question waits at most 50 ms for a request with the same key (see scheduling/sold_out.py)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24 04:45:00
"""

from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

# As 0010, but a claim that waits for a request with the same Idempotency-Key still being answered
# gives up after 50 ms ('busy': the request goes the usual way, which waits for that answer on its
# own connection): the short questions are asked in batches, and one waiting question would hold up
# every other question of its batch for as long as that other request's transaction lasts.
ASK = """
CREATE OR REPLACE FUNCTION scheduling_ask_sold_out(p_account uuid, p_key varchar, p_hash varchar,
                                                   p_session uuid, p_now timestamptz)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    outcome text;
BEGIN
    PERFORM set_config('lock_timeout', '50ms', true);
    BEGIN
        INSERT INTO idempotency_record (account_id, key, request_hash, status_code, response, created_at)
        VALUES (p_account, p_key, p_hash, 0, '{}'::json, p_now)
        ON CONFLICT (account_id, key) DO NOTHING;
        IF NOT FOUND THEN
            outcome := 'key_used';
        ELSIF EXISTS (SELECT 1 FROM clinic_session cs
                      WHERE cs.id = p_session AND cs.status = 'open' AND cs.release_at <= p_now AND cs.ends_at > p_now
                        AND NOT EXISTS (SELECT 1 FROM slot s WHERE s.session_id = cs.id
                                        AND s.booked < s.capacity AND s.starts_at > p_now)) THEN
            outcome := 'full';
        ELSE
            outcome := 'ask_again';
        END IF;
        RAISE EXCEPTION USING ERRCODE = 'ZY000';
    EXCEPTION
        WHEN SQLSTATE 'ZY000' THEN
            NULL;
        WHEN lock_not_available THEN
            outcome := 'busy';
    END;
    RETURN outcome;
END
$$;
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(ASK)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        from importlib import import_module

        op.execute(import_module("zhiyi.migrations.versions.0010_sold_out_question").ASK)
