"""`zhiyi bench rush` with waiting lists: patients told "full" join the line, cancellations free
places that are held for the first in line, offers are accepted (with an Idempotency-Key),
declined or left to run out, and the checker holds the database to bookings, held places and
what every patient was told."""

from __future__ import annotations

from zhiyi.bench import loadgen, rush

ANOMALIES = ("overbooked", "duplicates", "lost", "phantom", "false_full", "counter_mismatch")


def test_cancellations_during_a_rush_become_accepted_offers(backend, tmp_path):
    # the backend fixture skips PostgreSQL when it is not reachable, and fails under CI=true
    db = backend.url if backend.name == "postgresql" else f"sqlite:///{tmp_path / 'waitlist.db'}"
    lines: list[str] = []
    # everyone told "full" waits; a third of the bookings are cancelled a second or two later, when
    # the sessions are full and their lines long, so the places are offered to the first in line
    result = rush.run(
        rush.Options(
            db=db,
            clients=20,
            doctors=2,
            slots=10,
            patients=100,
            lead_s=0.0,
            trivial_requests=200,
            waitlist_rate=1.0,
            cancel_rate=0.3,
            cancel_after_s=2.0,
            decline_rate=0.1,
            ignore_rate=0.1,
            poll_s=0.5,
            linger_s=3.0,
        ),
        log=lines.append,
    )
    assert {k: result[k] for k in ANOMALIES} == dict.fromkeys(ANOMALIES, 0), (result, lines)
    assert result["errors"] == 0, result
    assert result["waitlisted"] > 0 and result["offers"] > 0 and result["accepted"] > 0, result
    assert result["offers"] >= result["accepted"] + result["declined"] + result["expired"] + result["held"]
    # every hold made to run out was expired by the server's sweep
    assert result["holds_overdue"] == 0, result
    assert result["booked"] + result["held"] <= result["slots"]
    # what each party spent per decision, read from /proc (Linux), the server's own CPU above nothing
    if rush.cpu.PROC.is_dir():
        spent = result["cpu_ms_per_decision"]
        assert (spent["server"] or 0) > 0 and (spent["clients"] or 0) > 0, spent
        if backend.name == "postgresql":  # the anchor's clients are the bench's own process
            assert (spent["db"] or 0) > 0 and (result["anchor_cpu_ms_per_decision"]["clients"] or 0) > 0, (
                result
            )


def _rec(
    kind: str, key: str, status: int, code: str | None = None, target: str | None = "b1", replayed=False
):
    return (0, kind, key, status, code, target, "s1", "sess", 0.0, 0.0, replayed)


NO_ANSWER = loadgen.NO_ANSWER + "ServerDisconnectedError"


def test_an_accepted_offer_is_a_booking_its_patient_was_told_of():
    accepted = [_rec("accept", "k1", 201, target="b2")]
    entries = {"e1": ("booked", "b2", True)}
    assert rush._lost(accepted, {"b2": "booked"}, entries) == 0
    assert rush._lost(accepted, {}, entries) == 1  # the booking is missing
    # no entry turned into it
    assert rush._lost(accepted, {"b2": "booked"}, {"e1": ("offered", None, True)}) == 1
    assert rush._errors(accepted) == 0


def test_an_acceptance_whose_answer_was_lost_is_replayed_and_recovered():
    records = [
        _rec("accept", "k1", 0, NO_ANSWER, None),
        _rec("accept", "k1", 201, target="b2", replayed=True),
    ]
    assert rush._outage(records) == {"unanswered": 1, "recovered": 1}
    assert rush._errors(records) == 0


def test_a_refused_acceptance_of_a_place_just_offered_is_an_error():
    assert rush._errors([_rec("accept", "k1", 409, "offer_not_open", None)]) == 1


def test_done_already_is_true_only_after_an_attempt_that_got_no_answer():
    for kind, code in (("join", "already_waiting"), ("decline", "offer_not_open"), ("leave", "not_waiting")):
        assert rush._errors([_rec(kind, "k1", 409, code)]) == 1, kind
        assert rush._errors([_rec(kind, "k1", 0, NO_ANSWER), _rec(kind, "k1", 409, code)]) == 0, kind
    assert rush._errors([_rec("join", "k1", 409, "places_available", None)]) == 0  # book instead


def test_lost_holds_the_waiting_lists_to_what_patients_were_told():
    joined = [_rec("join", "j1", 201, target="e1")]
    assert rush._lost(joined, {}, {}) == 1  # joined, missing
    assert rush._lost(joined, {}, {"e1": ("waiting", None, False)}) == 0
    declined = [_rec("decline", "d1", 200, target="e1")]
    # told "declined", the place still held
    assert rush._lost(declined, {}, {"e1": ("offered", None, True)}) == 1
    assert rush._lost(declined, {}, {"e1": ("declined", None, True)}) == 0
    left = [_rec("leave", "l1", 0, NO_ANSWER, "e1"), _rec("leave", "l1", 409, "not_waiting", "e1")]
    assert rush._lost(left, {}, {"e1": ("left", None, False)}) == 0
    assert rush._lost(left, {}, {"e1": ("waiting", None, False)}) == 1  # told "not waiting", still in line


def test_leaving_a_line_the_server_closed_first_is_no_error():
    """Between a patient's look at its lines and its "leave", a hold can run out (or the session
    close): "not waiting" is then the truth, not an error; for a line closed by the patient it is."""
    for kind, code in (("leave", "not_waiting"), ("leave", "offer_not_open"), ("decline", "offer_not_open")):
        record = [_rec(kind, "k1", 409, code, target="e1")]
        assert rush._errors(record, {"e1": "expired"}) == 0, kind
        assert rush._errors(record, {"e1": "closed"}) == 0, kind
        assert rush._errors(record, {"e1": "left"}) == 1, kind
        assert rush._errors(record) == 1, kind
