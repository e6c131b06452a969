"""Who may see and act on a booking. Registered with core.policy under "booking".

A booking belongs to its patient and to the campus of its clinic session:
- the patient, and a family member acting for them through an active link;
- "booking.read": the registrars, nurses and doctors of the session's campus (or group-wide staff),
  and its admins (a desk, a triage nurse and a clinic see who is coming);
- "booking.cancel": a registration desk of the session's campus.
Staff of another campus get nothing (a booking names the patient, the doctor and the time).
"""

from __future__ import annotations

from zhiyi.core.i18n import N_
from zhiyi.core.policy import Actor, Decision, Resource, Role, register_rule
from zhiyi.domains.patients import service as patients

KIND = "booking"
READ = "booking.read"
CANCEL = "booking.cancel"
CREATE = (
    "booking.create"  # audited when a booking is made (scheduling_book_own writes it too, migration 0017)
)
DESK_REASON = "registration desk"  # also the patients policy's word for a desk acting for anyone
READERS = frozenset({Role.registrar, Role.nurse, Role.doctor, Role.admin})


async def booking_rule(session, actor: Actor, action: str, resource: Resource) -> Decision:
    patient_id = resource.attrs["patient_id"]
    if actor.has(Role.patient) and actor.patient_id is not None and action in (READ, CANCEL):
        if patient_id == actor.patient_id:
            return Decision(True)
        if await patients.is_proxy_of(
            session, proxy_patient_id=actor.patient_id, dependent_patient_id=patient_id
        ):
            return Decision(True, on_behalf_of=patient_id, reason="family proxy")
    on_campus = actor.group_wide or resource.attrs["campus_id"] in actor.campus_ids
    if action == READ and on_campus and actor.roles & READERS:
        return Decision(True, reason="campus staff")
    if action == CANCEL and on_campus and actor.has(Role.registrar):
        return Decision(True, reason=DESK_REASON)
    return Decision(False)


def install() -> None:
    register_rule(KIND, booking_rule)


AUDIT_ACTIONS = {
    CREATE: N_("Booked an appointment"),
    READ: N_("Viewed a booking"),
    CANCEL: N_("Cancelled an appointment"),
}
AUDIT_REASONS = {"waiting list": N_("a place held from the waiting list")}
