"""What one caller may reach in the repository: everything (staff allowed the whole repository) or the
compartments of some patients (a patient's own token, and family members' where a proxy link allows)."""

from __future__ import annotations

from dataclasses import dataclass

from zhiyi.core.policy import Actor, Role
from zhiyi.fhir.errors import forbidden


@dataclass(frozen=True, slots=True)
class Access:
    actor: Actor | None
    # None: the whole repository; else the FHIR ids of the Patients whose compartments may be reached
    patients: frozenset[str] | None

    def may_write(self) -> bool:
        return self.patients is None


def access_for(actor: Actor) -> Access:
    """A patient reaches their own compartment (family members' come with the proxy links' mapping); a
    group-wide admin the whole repository. Other staff wait for the care relationships' mapping to FHIR
    (until then, refused: a doctor sees a patient only in their care, and the repository cannot tell that
    yet)."""
    if actor.patient_id is not None and actor.has(Role.patient):
        return Access(actor, frozenset({str(actor.patient_id)}))
    if actor.has(Role.admin) and actor.group_wide:
        return Access(actor, None)
    raise forbidden("This account may not use the FHIR repository.")
