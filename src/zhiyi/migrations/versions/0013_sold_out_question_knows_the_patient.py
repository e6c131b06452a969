"""scheduling: the short question names the patient's own reasons and replays a key that booked (see scheduling/sold_out.py)

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-24 08:10:00
"""

from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

# As 0011, with the patient asked about too:
# - 'full' only for a patient the usual path would tell "full": verified, not suspended after no-shows,
#   without an active booking in that department that day (the usual path names those reasons before
#   "full", service.book_slot; so does scheduling_book_own, 0012). Otherwise 'usual': the request goes
#   the usual way, which names the reason, and the session stays noted sold out.
# - a key that booked before with the same request: 'replay ' and the stored answer (as 0012 replays it);
#   any other key answered before is still 'key_used' (the usual path explains it).
# - the commit of its transaction does not wait for the WAL to reach the disk (synchronous_commit off,
#   for that transaction only): the question keeps nothing (its claim is undone), so there is nothing
#   to make durable, and a batch of 64 questions no longer waits for an fsync the disk may be slow to
#   do. Asked only in a transaction of its own (sold_out.ask_many, the bench's anchor).
# Change together with service.book_slot, repository._TARGET_OF_SESSION and scheduling_book_own.
ASK = """
CREATE OR REPLACE FUNCTION scheduling_ask_sold_out(p_account uuid, p_key varchar, p_hash varchar, p_patient uuid,
                                                   p_session uuid, p_now timestamptz)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    outcome text;
    body text;
    target record;
BEGIN
    PERFORM set_config('lock_timeout', '50ms', true);
    PERFORM set_config('synchronous_commit', 'off', true);
    BEGIN
        INSERT INTO idempotency_record (account_id, key, request_hash, status_code, response, created_at)
        VALUES (p_account, p_key, p_hash, 0, '{}'::json, p_now)
        ON CONFLICT (account_id, key) DO NOTHING;
        IF NOT FOUND THEN
            SELECT r.response::text INTO body FROM idempotency_record r
            WHERE r.account_id = p_account AND r.key = p_key AND r.request_hash = p_hash AND r.status_code = 201;
            outcome := CASE WHEN body IS NULL THEN 'key_used' ELSE 'replay ' || body END;
        ELSE
            SELECT cs.department_id, cs.session_on,
                   cs.status = 'open' AND cs.release_at <= p_now AND cs.ends_at > p_now
                   AND NOT EXISTS (SELECT 1 FROM slot s WHERE s.session_id = cs.id
                                   AND s.booked < s.capacity AND s.starts_at > p_now) AS sold_out INTO target
            FROM clinic_session cs WHERE cs.id = p_session;
            IF NOT FOUND OR NOT target.sold_out THEN
                outcome := 'ask_again';
            ELSIF EXISTS (SELECT 1 FROM patient p WHERE p.id = p_patient AND p.verified_at IS NOT NULL)
                  AND NOT EXISTS (SELECT 1 FROM booking b WHERE b.patient_id = p_patient
                                  AND b.department_id = target.department_id AND b.session_on = target.session_on
                                  AND b.status IN ('booked', 'checked_in'))
                  AND NOT EXISTS (SELECT 1 FROM booking_suspension s WHERE s.patient_id = p_patient
                                  AND s.ends_at > p_now) THEN
                outcome := 'full';
            ELSE
                outcome := 'usual';
            END IF;
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
OLD = "scheduling_ask_sold_out(uuid, varchar, varchar, uuid, timestamptz)"
NEW = "scheduling_ask_sold_out(uuid, varchar, varchar, uuid, uuid, timestamptz)"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS {OLD}")
        op.execute(ASK)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        from importlib import import_module

        op.execute(f"DROP FUNCTION IF EXISTS {NEW}")
        op.execute(import_module("zhiyi.migrations.versions.0011_sold_out_question_waits_briefly").ASK)
