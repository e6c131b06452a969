"""`zhiyi bench rush --kill-at`: the whole server is killed (SIGKILL to every worker) during the
rush and restarted; clients resend unanswered requests with the same Idempotency-Key, and the
database must still agree with everything the clients were told."""

from __future__ import annotations

from zhiyi.bench import loadgen, rush

ANOMALIES = ("overbooked", "duplicates", "lost", "phantom", "false_full", "counter_mismatch")


def test_a_killed_server_loses_and_doubles_nothing(backend, tmp_path):
    # the backend fixture skips PostgreSQL when it is not reachable, and fails under CI=true
    db = backend.url if backend.name == "postgresql" else f"sqlite:///{tmp_path / 'kill.db'}"
    lines: list[str] = []
    # nobody waits and cancellations come at once (the waiting list: test_rush_waitlist.py), so every
    # place freed during the rush is sold again; 400 patients for 20 places, so that the rush outlasts the
    # kill
    result = rush.run(
        rush.Options(
            db=db,
            clients=20,
            doctors=2,
            slots=10,
            patients=400,
            lead_s=0.0,
            trivial_requests=200,
            kill_at=0.2,
            waitlist_rate=0.0,
            cancel_after_s=0.0,
        ),
        log=lines.append,
    )
    assert result["restarts"] == 1, lines
    assert result["kill_at"] == 0.2
    assert {k: result[k] for k in ANOMALIES} == dict.fromkeys(ANOMALIES, 0), result
    assert result["errors"] == 0, result
    assert result["booked"] == result["slots"]  # every place sold, and nothing sold twice


def _rec(
    kind: str, key: str, status: int, code: str | None = None, booking: str | None = "b1", replayed=False
):
    return (0, kind, key, status, code, booking, "s1", "sess", 0.0, 0.0, replayed)


NO_ANSWER = loadgen.NO_ANSWER + "ServerDisconnectedError"


def test_not_active_after_an_unanswered_cancel_means_it_was_cancelled():
    records = [
        _rec("book", "k1", 201),
        _rec("cancel", "k1", 0, NO_ANSWER),
        _rec("cancel", "k1", 409, "booking_not_active"),
    ]
    assert rush._cancelled(records) == {"b1"}
    assert rush._errors(records) == 0


def test_not_active_to_a_first_cancel_is_an_error_and_no_cancellation():
    records = [_rec("book", "k1", 201), _rec("cancel", "k1", 409, "booking_not_active")]
    assert rush._cancelled(records) == set()
    assert rush._errors(records) == 1


def test_a_request_given_up_unanswered_is_an_error():
    records = [_rec("book", "k1", 0, NO_ANSWER, None), _rec("book", "k1", 0, loadgen.GAVE_UP + "X", None)]
    assert rush._errors(records) == 1
    assert rush._outage(records) == {"unanswered": 2, "recovered": 0}


def test_a_booking_whose_answer_was_lost_and_replayed_is_recovered():
    records = [
        _rec("book", "k1", 0, NO_ANSWER, None),
        _rec("book", "k1", 201, replayed=True),
        _rec("book", "k2", 0, NO_ANSWER, None),
        _rec("book", "k2", 201, booking="b2"),  # rolled back, booked afresh
        _rec("book", "k3", 201, booking="b3"),
        _rec("book", "k3", 201, booking="b3", replayed=True),
    ]
    assert rush._outage(records) == {"unanswered": 2, "recovered": 1}
    assert rush._errors(records) == 0


def test_lost_holds_the_database_to_what_clients_were_told():
    booked, cancel_lost = [_rec("book", "k1", 201)], [_rec("cancel", "k1", 0, NO_ANSWER)]
    assert rush._lost(booked, {}) == 1  # confirmed, missing
    assert rush._lost(booked, {"b1": "cancelled"}) == 1  # cancelled though never asked
    told = cancel_lost + [_rec("cancel", "k1", 409, "booking_not_active")]
    assert rush._lost(booked + told, {"b1": "cancelled"}) == 0
    assert rush._lost(booked + told, {"b1": "booked"}) == 1  # told "cancelled", still active
    gave_up = cancel_lost + [_rec("cancel", "k1", 0, loadgen.GAVE_UP + "X")]
    assert (
        rush._lost(booked + gave_up, {"b1": "cancelled"})
        == rush._lost(booked + gave_up, {"b1": "booked"})
        == 0
    )
