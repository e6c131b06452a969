"""Who may see and change a patient's data. Registered with core.policy under "patient".

- a patient: their own record, and a dependent's once the family link is active;
- clinical staff (doctor, nurse, pharmacist, registrar): patients of their campuses,
  or all patients when granted group-wide access; any campus's staff may look up a
  patient who presents a fresh one-code QR (their presence is their consent);
- a registrar: bookings for any patient at the desk (the session must be at their campus);
- an admin: the audit trail of any patient, and records of their campuses;
- an executive: no identifiable patient data (analytics are de-identified).
"""

from __future__ import annotations

from zhiyi.core.policy import CLINICAL_ROLES, Actor, Decision, Resource, Role, register_rule
from zhiyi.domains.patients import repository as repo

PATIENT_ACTIONS = {"read", "update", "proxy.manage", "onecode", "book"}
STAFF_ACTIONS = {"read", "update"}


async def patient_rule(session, actor: Actor, action: str, resource: Resource) -> Decision:
    patient_id = resource.id
    if actor.has(Role.patient) and action in PATIENT_ACTIONS:
        if patient_id == actor.patient_id:
            return Decision(True)
        if action != "proxy.manage" and actor.patient_id is not None and await repo.is_active_proxy(
            session, actor.patient_id, patient_id
        ):
            return Decision(True, on_behalf_of=patient_id, reason="family proxy")
    if action == "onecode.scan" and actor.roles & CLINICAL_ROLES:
        # the patient presenting a fresh one-code is their consent to be looked up here
        return Decision(True, reason="patient presented one-code")
    if action == "book" and actor.has(Role.registrar):
        # a registration desk books for whoever stands in front of it; scheduling checks the campus
        return Decision(True, reason="registration desk")
    if action == "audit.read" and actor.has(Role.admin):
        return Decision(True, reason="admin audit")
    if actor.roles & (CLINICAL_ROLES | {Role.admin}) and action in STAFF_ACTIONS:
        campus = resource.attrs.get("campus_id")
        if actor.group_wide or (campus is not None and campus in actor.campus_ids):
            return Decision(True, reason="campus staff")
    return Decision(False)


def install() -> None:
    register_rule("patient", patient_rule)
