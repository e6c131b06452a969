"""Events the scheduling domain publishes."""

BOOKING_CREATED = "scheduling.booking_created"  # {"booking_id", "patient_id", "slot_id", "session_id"}
BOOKING_CANCELLED = "scheduling.booking_cancelled"  # {"booking_id", "patient_id", "slot_id", "session_id"}
BOOKING_NO_SHOW = "scheduling.booking_no_show"  # {"booking_id", "patient_id", "slot_id", "session_id"}
WAITLIST_JOINED = "scheduling.waitlist_joined"  # {"entry_id", "patient_id", "session_id"}
# {"entry_id", "patient_id", "slot_id", "session_id", "hold_expires_at"}
PLACE_OFFERED = "scheduling.place_offered"
# {"entry_id", "patient_id", "slot_id", "session_id", "status"}: declined | expired
OFFER_CLOSED = "scheduling.offer_closed"
ONLINE_BOOKING_SUSPENDED = "scheduling.online_booking_suspended"  # {"patient_id", "ends_at", "no_shows"}
SESSION_STOPPED = "scheduling.session_stopped"  # {"session_id", "rebooked", "cancelled"}
SESSION_MOVED = "scheduling.session_moved"  # {"session_id", "delta_seconds"}
SESSIONS_OPENED = "scheduling.sessions_opened"  # {"session_ids"}: made from the timetable, or an extra clinic
# a booking's status changed on arrival and at the end of the visit (the queue's doing): {"booking_id"}
BOOKING_CHECKED_IN = "scheduling.booking_checked_in"
BOOKING_COMPLETED = "scheduling.booking_completed"
