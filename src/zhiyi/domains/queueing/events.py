"""Events the queueing domain publishes."""

CHECKED_IN = "queueing.checked_in"  # {"entry_id", "booking_id", "patient_id", "session_id"}
CALLED = "queueing.called"  # {"entry_id", "number", "patient_id", "session_id"}
