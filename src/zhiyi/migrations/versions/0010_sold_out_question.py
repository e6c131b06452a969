"""scheduling: the short question for a session seen sold out (PostgreSQL function; see scheduling/sold_out.py)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23 23:40:00
"""

from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

# Claims the Idempotency-Key (waiting, like every claim, for a request with the same key still being
# answered), reads whether the session is open, released, not over and without a free place, and
# undoes the claim (the inner block's work is rolled back): one round trip, nothing kept.
# 'key_used': the key has an answer already; 'full'; 'ask_again': book the usual way.
ASK = """
CREATE OR REPLACE FUNCTION scheduling_ask_sold_out(p_account uuid, p_key varchar, p_hash varchar,
                                                   p_session uuid, p_now timestamptz)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    outcome text;
BEGIN
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
    EXCEPTION WHEN SQLSTATE 'ZY000' THEN
        NULL;
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
        op.execute("DROP FUNCTION IF EXISTS scheduling_ask_sold_out(uuid, varchar, varchar, uuid, timestamptz)")
