"""Who may run a clinic session's queue and check patients in. Registered with core.policy.

- "queue.run" (call next, recall, skip, send for tests, finish; see the names on the board):
  the session's own doctor, or a nurse or doctor of the session's campus (the triage desk);
- "queue.check_in" (a desk or kiosk scanning the one-code QR): registrars, nurses and
  doctors of the session's campus, or group-wide staff.
"""

from __future__ import annotations

from zhiyi.core.i18n import N_
from zhiyi.core.policy import Actor, Decision, Resource, Role, register_rule

KIND = "clinic_queue"


async def queue_rule(_session, actor: Actor, action: str, resource: Resource) -> Decision:
    on_campus = actor.group_wide or resource.attrs.get("campus_id") in actor.campus_ids
    if action == "queue.run":
        if actor.practitioner_id is not None and actor.practitioner_id == resource.attrs.get(
            "practitioner_id"
        ):
            return Decision(True, reason="own clinic")
        if on_campus and (actor.has(Role.nurse) or actor.has(Role.doctor)):
            return Decision(True, reason="campus clinic staff")
    if (
        action == "queue.check_in"
        and on_campus
        and (actor.has(Role.registrar) or actor.has(Role.nurse) or actor.has(Role.doctor))
    ):
        return Decision(True, reason="campus desk")
    return Decision(False)


def install() -> None:
    register_rule(KIND, queue_rule)


AUDIT_ACTIONS = {
    "read queue_entry": N_("Saw in the doctor's queue"),
    "queue.run": N_("Ran the clinic's queue"),
    "queue.check_in": N_("Checked in"),
    "queue.arrive": N_("Said they have arrived"),
}
AUDIT_REASONS = {
    "own clinic": N_("their own clinic"),
    "campus clinic staff": N_("clinic staff of the campus"),
    "campus desk": N_("a desk of the campus"),
}
