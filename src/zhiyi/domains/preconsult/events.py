"""Events the pre-consultation domain publishes."""

# {"response_id", "patient_id", "booking_id", "department_code", "red_flags"}
RESPONSE_SUBMITTED = "preconsult.response_submitted"
