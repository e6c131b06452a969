"""Who may work on triage's records. Registered with core.policy.

- "triage_handover" (a patient's request for a person): the service desk (registrars and
  nurses) of the patient's campus (any, for group-wide staff) may list, read and take waiting
  requests; writing and closing are for the agent who took one (checked in the service, which
  knows who took it).
Assessments themselves belong to the account that asked; reading one about a patient goes
through the patients policy ("read"), so family proxies and campus staff are handled there.
"""

from __future__ import annotations

from zhiyi.core.i18n import N_
from zhiyi.core.policy import Actor, Decision, Resource, Role, register_rule

HANDOVER = "triage_handover"
AGENT_ROLES = (Role.registrar, Role.nurse)


async def handover_rule(_session, actor: Actor, action: str, resource: Resource) -> Decision:
    campus = resource.attrs.get("campus_id")
    on_campus = actor.group_wide or campus is None or campus in actor.campus_ids
    if action.startswith("triage.handover.") and any(actor.has(r) for r in AGENT_ROLES) and on_campus:
        return Decision(True, reason="service desk")
    return Decision(False)


def install() -> None:
    register_rule(HANDOVER, handover_rule)


AUDIT_ACTIONS = {
    "triage.read": N_("Read a triage answer"),
    "triage.review.read": N_("Reviewed an emergency answer"),
    "triage.reassign": N_("Named the right department"),
    "triage.handover.list": N_("Listed service-desk requests"),
    "triage.handover.read": N_("Read a service-desk chat"),
    "triage.handover.take": N_("Took a service-desk request"),
    "triage.handover.write": N_("Wrote in a service-desk chat"),
    "triage.handover.close": N_("Closed a service-desk chat"),
    "read triage_handover": N_("Read a service-desk chat"),
}
AUDIT_REASONS = {"service desk": N_("the service desk")}
