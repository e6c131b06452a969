"""Pre-consultation (预问诊): per-department FHIR questionnaires, answers and the pre-visit summary."""
