"""The audit trail's words for the FHIR repository's actions (core/audit.py; domains/registry.py installs
them)."""

from __future__ import annotations

from zhiyi.core.i18n import N_

AUDIT_ACTIONS = {
    "fhir.read": N_("Read a FHIR resource"),
    "fhir.vread": N_("Read a past version of a FHIR resource"),
    "fhir.search": N_("Searched the FHIR repository"),
    "fhir.history": N_("Read a FHIR history"),
    "fhir.everything": N_("Read everything of a patient (FHIR)"),
    "fhir.create": N_("Created a FHIR resource"),
    "fhir.update": N_("Updated a FHIR resource"),
    "fhir.delete": N_("Deleted a FHIR resource"),
    "fhir.import": N_("Imported a file into the FHIR repository"),
}
