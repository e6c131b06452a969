"""Events the patients domain publishes (through core.outbox, in the same transaction)."""

PATIENT_REGISTERED = "patients.patient_registered"  # {"patient_id", "campus_id"}
PROXY_ACTIVATED = (
    "patients.proxy_activated"  # {"link_id", "proxy_patient_id", "dependent_patient_id", "method"}
)
PROXY_REVOKED = "patients.proxy_revoked"  # {"link_id", "proxy_patient_id", "dependent_patient_id"}
# the record changed (phone, insurance, contacts, address): {"patient_id"}
PATIENT_UPDATED = "patients.patient_updated"
