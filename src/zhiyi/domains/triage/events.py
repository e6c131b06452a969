"""Events the triage domain publishes."""

# {"assessment_id", "patient_id"} (patient_id None: asked by an account without a patient record)
ASSESSMENT_MADE = "triage.assessment_made"
ASSESSMENT_REASSIGNED = (
    "triage.assessment_reassigned"  # {"assessment_id"}: a doctor named the right department
)
ASSESSMENT_REVIEWED = (
    "triage.assessment_reviewed"  # {"assessment_id"}: an emergency answer looked at by staff
)
