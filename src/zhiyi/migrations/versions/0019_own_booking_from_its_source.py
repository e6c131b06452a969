"""scheduling: the one-statement booking from its one source (rush/sql/scheduling_book_own.sql): its
preconditions rendered from scheduling/rules.py (the expressions the usual path selects), answering a
typed JSON object instead of a prefixed string, without the time zone it no longer uses; a booking
takes its session's day (a time past midnight in an evening clinic is that clinic's day)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 17:10:00
"""

from importlib import import_module

from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

_OLD_SIGNATURE = ("scheduling_book_own(uuid, varchar, varchar, uuid, uuid, timestamptz, double precision, text, uuid, "
                  "uuid, uuid, varchar, varchar, varchar)")
_SIGNATURE = ("scheduling_book_own(uuid, varchar, varchar, uuid, uuid, timestamptz, double precision, uuid, uuid, "
              "uuid, varchar, varchar, varchar)")

# rush/functions.py's rendering of the source, as of this migration (test_functions.py holds the newest
# migration's copy of each function to its source)
FUNCTIONS = {
    "scheduling_book_own": r"""
CREATE OR REPLACE FUNCTION scheduling_book_own(p_account uuid, p_key varchar, p_hash varchar, p_patient uuid,
                                               p_session uuid, p_now timestamptz, p_draw_seconds double precision,
                                               p_booking uuid, p_event uuid, p_audit uuid,
                                               p_roles varchar, p_request varchar, p_client varchar)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    target record;
    taken record;
    day date;
    body json;
    outcome json := '{"outcome": "usual"}';
BEGIN
    PERFORM set_config('lock_timeout', '10ms', true);
    BEGIN
        INSERT INTO idempotency_record (account_id, key, request_hash, status_code, response, created_at)
        VALUES (p_account, p_key, p_hash, 0, '{}'::json, p_now)
        ON CONFLICT (account_id, key) DO NOTHING;
        IF NOT FOUND THEN  -- answered before (a request with this key still being answered was waited for)
            SELECT r.response INTO body FROM idempotency_record r
            WHERE r.account_id = p_account AND r.key = p_key AND r.request_hash = p_hash AND r.status_code = 201;
            IF FOUND THEN
                RETURN json_build_object('outcome', 'replayed', 'booking', body);
            END IF;
            RAISE EXCEPTION USING ERRCODE = 'ZY000';
        END IF;
        SELECT cs.id, cs.practitioner_id, cs.department_id, cs.campus_id,
               cs.release_at + make_interval(secs => p_draw_seconds) AS draw_ends INTO target
        FROM clinic_session cs
        WHERE cs.id = p_session AND (cs.status = 'open' AND cs.release_at <= p_now AND cs.ends_at > p_now)
          AND (EXISTS (SELECT * FROM patient WHERE patient.id = p_patient AND patient.verified_at IS NOT NULL))
          AND NOT (EXISTS (SELECT * FROM booking AS b WHERE b.patient_id = p_patient AND b.department_id = cs.department_id AND b.session_on = cs.session_on AND b.status IN ('booked', 'checked_in')))
          AND ((SELECT s.ends_at FROM booking_suspension AS s WHERE s.patient_id = p_patient AND s.ends_at > p_now)) IS NULL;
        IF NOT FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'ZY000';
        END IF;
        IF target.draw_ends > p_now THEN  -- the release's draw is on: its order is the usual path's
            outcome := json_build_object('outcome', 'draw', 'draw_ends', extract(epoch FROM target.draw_ends));
            RAISE EXCEPTION USING ERRCODE = 'ZY000';
        END IF;
        UPDATE slot SET booked = booked + 1
        WHERE id = (SELECT f.id FROM slot f
                    WHERE f.session_id = p_session AND f.booked < f.capacity AND f.starts_at > p_now
                    ORDER BY f.starts_at, f.id LIMIT 1 FOR UPDATE SKIP LOCKED)
          AND booked < capacity
        RETURNING id, starts_at, ends_at INTO taken;
        IF NOT FOUND THEN  -- no free place nobody holds: none at all, or held by bookings not yet committed
            outcome := json_build_object('outcome', CASE WHEN EXISTS (
                SELECT 1 FROM slot f WHERE f.session_id = p_session AND f.booked < f.capacity AND f.starts_at > p_now
            ) THEN 'held' ELSE 'full' END);
            RAISE EXCEPTION USING ERRCODE = 'ZY000';
        END IF;
        SELECT cs.session_on INTO day FROM clinic_session cs WHERE cs.id = p_session;
        -- one patient, one place at a time (scheduling/overlap.py): the patient's lock, as every path
        -- that books takes it after its place, then no active booking of theirs at the same time
        PERFORM pg_advisory_xact_lock(hashtextextended('scheduling.patient:' || p_patient::text, 0));
        IF EXISTS (SELECT sl.starts_at FROM slot AS sl JOIN booking AS b ON b.slot_id = sl.id WHERE b.patient_id = p_patient AND b.status IN ('booked', 'checked_in') AND b.session_on BETWEEN day - 1 AND day + 1 AND sl.starts_at < taken.ends_at AND sl.ends_at > taken.starts_at ORDER BY sl.starts_at LIMIT 1) THEN
            RAISE EXCEPTION USING ERRCODE = 'ZY000';  -- the usual path says which booking is in the way
        END IF;
        INSERT INTO booking (id, slot_id, session_id, patient_id, department_id, session_on, status, channel,
                             booked_by_account_id, created_at)
        VALUES (p_booking, taken.id, p_session, p_patient, target.department_id, day, 'booked', 'online',
                p_account, p_now)
        ON CONFLICT (patient_id, department_id, session_on) WHERE status IN ('booked', 'checked_in') DO NOTHING;
        IF NOT FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'ZY000';
        END IF;
        INSERT INTO audit_event (id, at, actor_account_id, actor_roles, on_behalf_of_patient_id, patient_id, action,
                                 resource_type, resource_id, outcome, request_id, client_addr)
        VALUES (p_audit, p_now, p_account, p_roles, NULL, p_patient, 'book', 'patient', p_patient::text, 'allowed',
                p_request, p_client);
        -- the booking made, as book_slot audits it (scheduling.policy.CREATE)
        INSERT INTO audit_event (id, at, actor_account_id, actor_roles, on_behalf_of_patient_id, patient_id, action,
                                 resource_type, resource_id, outcome, request_id, client_addr)
        VALUES (gen_random_uuid(), p_now, p_account, p_roles, NULL, p_patient, 'booking.create', 'booking',
                p_booking::text, 'allowed', p_request, p_client);
        INSERT INTO outbox_event (id, topic, payload, created_at, available_at, attempts)
        VALUES (p_event, 'scheduling.booking_created',
                json_build_object('booking_id', p_booking::text, 'patient_id', p_patient::text,
                                  'slot_id', taken.id::text, 'session_id', p_session::text),
                p_now, p_now, 0);
        body := json_build_object(
            'id', p_booking::text, 'slot_id', taken.id::text, 'session_id', p_session::text,
            'patient_id', p_patient::text, 'department_id', target.department_id::text,
            'practitioner_id', target.practitioner_id::text, 'campus_id', target.campus_id::text,
            'starts_at', scheduling_json_time(taken.starts_at), 'ends_at', scheduling_json_time(taken.ends_at),
            'session_on', to_char(day, 'YYYY-MM-DD'), 'status', 'booked', 'channel', 'online');
        UPDATE idempotency_record SET status_code = 201, response = body
        WHERE account_id = p_account AND key = p_key;
        RETURN json_build_object('outcome', 'booked', 'booking', body);
    EXCEPTION
        WHEN SQLSTATE 'ZY000' THEN
            NULL;
        WHEN lock_not_available THEN
            outcome := '{"outcome": "busy"}';
        WHEN OTHERS THEN  -- told, not hidden: the caller logs it and books the usual way
            outcome := json_build_object('outcome', 'error', 'sqlstate', SQLSTATE, 'message', SQLERRM);
    END;
    RETURN outcome;
END
$$;
""",
}


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION {_OLD_SIGNATURE}")  # a new result type: CREATE OR REPLACE cannot change it
        op.execute(FUNCTIONS["scheduling_book_own"])


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION {_SIGNATURE}")
        op.execute(import_module("zhiyi.migrations.versions.0017_booking_overlap").BOOK)
