"""The FHIR callers (a group-wide admin, a patient) for the domains' test_fhir.py."""

from tests.fhir.conftest import admin_headers, patient_caller  # noqa: F401  (fixtures)
