"""Events the scheduling domain publishes."""

BOOKING_CREATED = "scheduling.booking_created"  # {"booking_id", "patient_id", "slot_id", "session_id"}
BOOKING_CANCELLED = "scheduling.booking_cancelled"  # {"booking_id", "patient_id", "slot_id", "session_id"}
