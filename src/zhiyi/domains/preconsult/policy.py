"""Who may fill and read pre-consultation forms. Registered with core.policy under "preconsult".

- "preconsult.fill" (get the form, save, submit): the patient, or a family member acting for them
  through an active family link (patients.service decides what is active);
- "preconsult.read" (the answers and the summary): the same people, and the doctor of the clinic
  session the patient is booked into (the service names that session's doctor in the resource's
  `practitioner_id` only after checking the booking). Desks, nurses and other doctors see nothing:
  a pre-consultation is between the patient and the doctor who will see them.
"""

from __future__ import annotations

from zhiyi.core.i18n import N_
from zhiyi.core.policy import Actor, Decision, Resource, Role, register_rule
from zhiyi.domains.patients import service as patients

KIND = "preconsult"
FILL, READ = "preconsult.fill", "preconsult.read"


async def preconsult_rule(session, actor: Actor, action: str, resource: Resource) -> Decision:
    patient_id = resource.attrs.get("patient_id")
    if action not in (FILL, READ) or patient_id is None:
        return Decision(False)
    if actor.has(Role.patient) and actor.patient_id is not None:
        if actor.patient_id == patient_id:
            return Decision(True, reason="own record")
        if await patients.is_proxy_of(
            session, proxy_patient_id=actor.patient_id, dependent_patient_id=patient_id
        ):
            return Decision(True, on_behalf_of=patient_id, reason="family proxy")
    if (
        action == READ
        and actor.has(Role.doctor)
        and actor.practitioner_id is not None
        and actor.practitioner_id == resource.attrs.get("practitioner_id")
    ):
        return Decision(True, reason="doctor of the clinic session")
    return Decision(False)


def install() -> None:
    register_rule(KIND, preconsult_rule)


AUDIT_ACTIONS = {
    FILL: N_("Opened the pre-consultation form"),
    READ: N_("Read the pre-consultation answers"),
    "preconsult.save": N_("Saved pre-consultation answers"),
    "preconsult.submit": N_("Sent pre-consultation answers"),
}
AUDIT_REASONS = {
    "own record": N_("their own record"),
    "doctor of the clinic session": N_("doctor of the clinic"),
}
