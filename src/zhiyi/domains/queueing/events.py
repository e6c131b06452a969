"""Events the queueing domain publishes."""

CHECKED_IN = "queueing.checked_in"  # {"entry_id", "booking_id", "patient_id", "session_id"}
CALLED = "queueing.called"  # {"entry_id", "number", "patient_id", "session_id"}
# {"entry_id", "booking_id", "patient_id", "session_id"}: the consultation ended (the doctor called the next
# or pressed finish)
VISIT_FINISHED = "queueing.visit_finished"
# the same payload: the patient called missed the call (skipped) or was sent for tests (away)
TURN_DEFERRED = "queueing.turn_deferred"
REJOINED = "queueing.rejoined"  # the same payload: back from tests, or back after a missed call
