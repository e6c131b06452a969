"""The checks of `zhiyi bench rush`: the database held to what every patient was told (bookings,
cancellations, held places and waiting-list entries), and the answers a patient should not get."""

from __future__ import annotations

import json
import uuid

from sqlalchemy import text

from zhiyi.bench import loadgen
from zhiyi.domains.scheduling.models import ACTIVE_BOOKING, active_booking_sql

BOOKS = ("book", "accept")  # requests whose 201 answer is a booking (sent with an Idempotency-Key)
# answers that say an earlier attempt did it already: true only after an attempt that got no answer
DONE_ALREADY = {
    "cancel": ("booking_not_active",),
    "join": ("already_waiting",),
    "decline": ("offer_not_open",),
    "leave": ("not_waiting", "offer_not_open"),
}
# an entry's status once its patient was told
CLOSED_BY = {"decline": ("declined",), "leave": ("left", "declined")}
SERVER_CLOSED = ("expired", "closed")  # statuses only the server gives (a hold ran out, the session closed)


async def _check(session, records: list[loadgen.Record], accounts: list[str]) -> dict:
    """Compares the database with what the clients were told. Attempts that got no answer (the
    server was killed) confirm nothing; the retry of the same key tells the client what happened.
    A place held for the first in line (an open offer) is counted by its slot like a booking."""
    q = lambda sql: session.execute(text(sql))  # noqa: E731
    active = f"(SELECT count(*) FROM booking b WHERE b.slot_id = s.id AND {active_booking_sql('b.status')})"
    held = "(SELECT count(*) FROM waitlist_entry w WHERE w.slot_id = s.id AND w.status = 'offered')"
    overbooked = (await q("SELECT count(*) FROM slot WHERE booked > capacity")).scalar_one()
    overbooked += (await q(f"SELECT count(*) FROM slot s WHERE {active} + {held} > s.capacity")).scalar_one()
    same_day = (
        await q(
            f"SELECT count(*) FROM (SELECT patient_id FROM booking WHERE {active_booking_sql()} "
            "GROUP BY patient_id, department_id, session_on HAVING count(*) > 1) x"
        )
    ).scalar_one()
    by_key: dict[str, set] = {}
    for r in records:
        if r[1] in BOOKS and r[3] == 201:
            by_key.setdefault(r[2], set()).add(r[5])
    twice_by_key = sum(len(v) - 1 for v in by_key.values())
    confirmed = {r[5] for r in records if r[1] in BOOKS and r[3] == 201}
    rows = (await q("SELECT id, status FROM booking")).all()
    stored = {_uuid(i): status for i, status in rows}
    entries = {
        _uuid(i): (status, _uuid(b) if b else None, offered is not None)
        for i, status, b, offered in (
            await q("SELECT id, status, booking_id, offered_at FROM waitlist_entry")
        ).all()
    }
    lost = _lost(records, stored, entries)
    # phantom: in the database, never confirmed to anyone, and not retrievable by a key its client
    # holds (a booking, or an accepted offer, whose answer died with the server is replayed to a retry
    # of its key)
    sent = {(accounts[r[0]], r[2]) for r in records if r[1] in BOOKS}
    responses = (
        await q("SELECT account_id, key, response FROM idempotency_record WHERE status_code = 201")
    ).all()
    retrievable = {
        (json.loads(r) if isinstance(r, str) else r).get("id")
        for a, k, r in responses
        if (_uuid(a), k) in sent
    }
    phantom = len([i for i in stored if i not in confirmed and i not in retrievable])
    # a place never taken by anyone: no booking and never held for the line (cancelled bookings and
    # held places count as taken: a "full" answer before a later cancellation, or while the place was
    # held for the first in line, was true when given)
    unsold = {
        _uuid(s)
        for s in (
            await q(
                "SELECT DISTINCT s.session_id FROM slot s WHERE s.capacity > "
                "(SELECT count(*) FROM booking b WHERE b.slot_id = s.id) + "
                "(SELECT count(*) FROM waitlist_entry w WHERE w.slot_id = s.id AND w.booking_id IS NULL)"
            )
        ).scalars()
    }
    drift = (await q(f"SELECT count(*) FROM slot s WHERE s.booked <> {active} + {held}")).scalar_one()
    false_full = sum(
        1 for r in records if r[1] == "book" and r[3] == 409 and r[4] == "slot_full" and r[7] in unsold
    )
    booked = sum(1 for s in stored.values() if s in ACTIVE_BOOKING)
    statuses = [status for status, _, _ in entries.values()]
    return {
        "overbooked": int(overbooked),
        "counter_mismatch": int(drift),
        "duplicates": int(same_day) + twice_by_key,
        "lost": lost,
        "phantom": phantom,
        "false_full": false_full,
        "booked": booked,
        "unsold_sessions": len(unsold),
        "waitlisted": len(entries),
        "offers": sum(1 for _, _, offered in entries.values() if offered),
        "accepted": statuses.count("booked"),
        "declined": statuses.count("declined"),
        "expired": statuses.count("expired"),
        "held": statuses.count("offered"),
        "entry_status": {e: status for e, (status, _, _) in entries.items()},
    }


def _lost(
    records: list[loadgen.Record], stored: dict[str, str], entries: dict[str, tuple] | None = None
) -> int:
    """Confirmed to a client, not so in the database: a booking (or an accepted offer's booking)
    missing, or cancelled though its holder never asked; or a cancellation the holder was told of
    that did not happen. A holder whose cancel never got an answer (given up) cannot tell, so
    either state is true to it. With the waiting-list entries (id -> (status, booking, offered)):
    a joined entry missing, an accepted offer whose entry does not name its booking, an entry still
    in its line (or holding a place) though its patient was told it declined or left."""
    confirmed = {r[5] for r in records if r[1] in BOOKS and r[3] == 201}
    cancelled = _cancelled(records)
    undecided = {r[5] for r in records if r[1] == "cancel" and r[3] == 0 and r[4].startswith(loadgen.GAVE_UP)}
    lost = (
        len(confirmed - stored.keys())
        + sum(1 for b in confirmed - cancelled - undecided if b in stored and stored[b] not in ACTIVE_BOOKING)
        + sum(1 for b in cancelled if stored.get(b) in ACTIVE_BOOKING)
    )
    if entries is None:
        return lost
    joined = {r[5] for r in records if r[1] == "join" and r[3] == 201}
    accepted = {r[5] for r in records if r[1] == "accept" and r[3] == 201}
    from_offers = {b for status, b, _ in entries.values() if status == "booked"}
    return (
        lost
        + len(joined - entries.keys())
        + len(accepted - from_offers)
        + sum(1 for e, kind in _closed(records).items() if entries.get(e, ("",))[0] not in CLOSED_BY[kind])
    )


def _closed(records: list[loadgen.Record]) -> dict[str, str]:
    """Entries whose patients were told they declined or left (an answer, or "done already" to a
    request sent again after an attempt that got no answer): entry -> "decline" or "leave"."""
    unanswered = {(r[1], r[2]) for r in records if r[3] == 0}
    return {
        r[5]: r[1]
        for r in records
        if r[1] in CLOSED_BY and (r[3] == 200 or (_done_already(r) and (r[1], r[2]) in unanswered))
    }


def _cancelled(records: list[loadgen.Record]) -> set[str]:
    """Bookings whose holders were told they are cancelled: "cancelled", or "not active" to a
    cancel sent again after an attempt that got no answer (that attempt did it; nobody else
    cancels a bench patient's booking). The checker holds the database to this."""
    unanswered = {r[5] for r in records if r[1] == "cancel" and r[3] == 0}
    return {
        r[5] for r in records if r[1] == "cancel" and (r[3] == 200 or (_not_active(r) and r[5] in unanswered))
    }


def _not_active(r: loadgen.Record) -> bool:
    return r[3] == 409 and r[4] == "booking_not_active"


def _done_already(r: loadgen.Record) -> bool:
    return r[3] == 409 and r[4] in DONE_ALREADY.get(r[1], ())


def _errors(records: list[loadgen.Record], entry_status: dict[str, str] | None = None) -> int:
    return len(_error_records(records, entry_status))


def _error_records(
    records: list[loadgen.Record], entry_status: dict[str, str] | None = None
) -> list[loadgen.Record]:
    """Answers a patient should not get: unexpected statuses, requests given up unanswered, "done
    already" (not active, already waiting, offer not open, not waiting) to a first attempt (no
    earlier attempt can have done it), and any refusal to accept an offer its patient was just
    shown (the hold lasts `hold_minutes`, and a patient accepts while it holds no booking).
    A leave or decline told "done already" is no error when the server itself closed the entry
    first (its hold ran out, or its session closed, between the patient's look and the request):
    `entry_status` (entry -> status at the end) tells."""
    unanswered = {(r[1], r[2]) for r in records if r[3] == 0}
    entry_status = entry_status or {}
    return [
        r
        for r in records
        if r[3] not in (0, 200, 201, 409)
        or (r[3] == 0 and r[4].startswith(loadgen.GAVE_UP))
        or (
            _done_already(r)
            and (r[1], r[2]) not in unanswered
            and not (r[1] in CLOSED_BY and entry_status.get(r[5]) in SERVER_CLOSED)
        )
        or (r[1] == "accept" and r[3] == 409)
    ]


def _outage(records: list[loadgen.Record]) -> dict:
    """Attempts that got no answer, and bookings (or accepted offers) whose answer was lost that a retry
    of the key replayed."""
    unanswered, first_answer = set(), {}
    for r in records:  # a key's attempts are in the order they were made
        if r[1] not in BOOKS:
            continue
        if r[3] == 0:
            unanswered.add(r[2])
        else:
            first_answer.setdefault(r[2], r)
    recovered = sum(
        1 for k in unanswered if k in first_answer and first_answer[k][3] == 201 and first_answer[k][10]
    )
    return {"unanswered": sum(1 for r in records if r[3] == 0), "recovered": recovered}


def _uuid(value) -> str:
    """SQLite gives hex strings, PostgreSQL UUID objects: one canonical text form."""
    return str(uuid.UUID(str(value)))
