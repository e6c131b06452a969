"""Events the pre-consultation domain publishes."""

RESPONSE_SUBMITTED = "preconsult.response_submitted"  # {"response_id", "patient_id", "booking_id", "department_code", "red_flags"}
