"""Who may see and change a patient's data. Registered with core.policy under "patient".

- a patient: their own record, and a dependent's once the family link is active;
- a doctor or a nurse: a patient in their care, that is with a booking (or what later domains
  register: a consultation, an order) with them or their department, or (a nurse) at their campus,
  within `care_window_days` either side of today; or, without one, after "breaking the glass" with a
  reason (a time-limited grant the privacy officer's page lists);
- a registrar: patients of their campuses (the desk registers and finds them), or all when group-wide;
- a pharmacist: nothing of the record yet (what a prescription under review needs, once pharmacy lands);
- any clinical role of any campus may look up a patient who presents a fresh one-code QR (their
  presence is their consent);
- a registrar: bookings for any patient at the desk (the session must be at their campus), and a
  patient's full ID number at their campuses, on an explicit request with a reason (audited);
- an admin: the audit trail and records of their campuses' patients (every campus's when group-wide);
- an executive: no identifiable patient data (analytics are de-identified).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable

from zhiyi.core import clock
from zhiyi.core.config import get_settings
from zhiyi.core.i18n import N_
from zhiyi.core.policy import CLINICAL_ROLES, Actor, Decision, Resource, Role, register_rule
from zhiyi.domains.patients import repository as repo

PATIENT_ACTIONS = {"read", "update", "proxy.manage", "onecode", "book"}
# an admin scans the one-codes of their campuses' patients too
STAFF_ACTIONS = {"read", "update", "onecode.scan"}
CARE_ROLES = frozenset({Role.doctor, Role.nurse})
CARE_REASON, GLASS_REASON = "care relationship", "break the glass"
# (session, actor, patient_id, since, until) -> whether the patient is in the actor's care: registered by the
# domains that know (scheduling's bookings; later consultations and orders), never imported here
CareProvider = Callable[..., Awaitable[bool]]
CARE_PROVIDERS: list[CareProvider] = []


def register_care_provider(provider: CareProvider) -> None:
    if provider not in CARE_PROVIDERS:
        CARE_PROVIDERS.append(provider)


async def care_of(session, actor: Actor, patient_id: uuid.UUID) -> str | None:
    """Why `actor` (a doctor or a nurse) may see this patient: a care relationship, a grant, or None."""
    today = clock.today(get_settings().timezone)
    window = dt.timedelta(days=get_settings().care_window_days)
    for provider in CARE_PROVIDERS:
        if await provider(
            session, actor=actor, patient_id=patient_id, since=today - window, until=today + window
        ):
            return CARE_REASON
    if await repo.has_grant(session, account_id=actor.account_id, patient_id=patient_id, now=clock.now()):
        return GLASS_REASON
    return None


async def patient_rule(session, actor: Actor, action: str, resource: Resource) -> Decision:
    patient_id = resource.id
    if actor.has(Role.patient) and action in PATIENT_ACTIONS:
        if patient_id == actor.patient_id:
            return Decision(True)
        if (
            action != "proxy.manage"
            and actor.patient_id is not None
            and await repo.is_active_proxy(session, actor.patient_id, patient_id)
        ):
            return Decision(True, on_behalf_of=patient_id, reason="family proxy")
    if action == "onecode.scan" and actor.roles & CLINICAL_ROLES:
        # the patient presenting a fresh one-code is their consent to be looked up here
        return Decision(True, reason="patient presented one-code")
    if action == "book" and actor.has(Role.registrar):
        # a registration desk books for whoever stands in front of it; scheduling checks the campus
        return Decision(True, reason="registration desk")
    if action == "id_number.reveal" and actor.has(Role.registrar):
        campus = resource.attrs.get("campus_id")
        if actor.group_wide or (campus is not None and campus in actor.campus_ids):
            return Decision(True, reason="registration desk")
        return Decision(False)
    if action == "audit.read" and actor.has(Role.admin):
        campus = resource.attrs.get("campus_id")
        if actor.group_wide or (campus is not None and campus in actor.campus_ids):
            return Decision(True, reason="admin audit")
        return Decision(False)
    if action in STAFF_ACTIONS and actor.roles & {Role.registrar, Role.admin}:
        campus = resource.attrs.get("campus_id")
        if actor.group_wide or (campus is not None and campus in actor.campus_ids):
            return Decision(True, reason="campus staff")
    if action in STAFF_ACTIONS and actor.roles & CARE_ROLES:
        why = await care_of(session, actor, patient_id)
        if why:
            return Decision(True, reason=why)
    return Decision(False)


def install() -> None:
    register_rule("patient", patient_rule)


# the audit trail in words (core/audit.py: "action resource" before "action")
AUDIT_ACTIONS = {
    "read patient": N_("Opened the record"),
    "update patient": N_("Changed the record"),
    "create patient": N_("Registered the patient"),
    "search patient": N_("Found in a search"),
    "book patient": N_("Opened the booking pages"),
    "onecode patient": N_("Showed the one-code"),
    "onecode.scan": N_("Scanned the one-code"),
    "audit.read": N_("Read the audit trail"),
    "break_glass": N_("Opened without a care relationship (broke the glass)"),
    "proxy.request": N_("Asked to manage the patient's affairs"),
    "proxy.consent": N_("Consented to a family manager"),
    "proxy.revoke": N_("Revoked a family manager"),
    "list patient_proxy": N_("Listed family members"),
    "id_number.reveal": N_("Showed the full ID number"),
}
AUDIT_REASONS = {
    "family proxy": N_("as a family member"),
    "patient presented one-code": N_("the patient showed their one-code"),
    "registration desk": N_("at a registration desk"),
    "admin audit": N_("privacy review"),
    "campus staff": N_("staff of the patient's campus"),
    CARE_REASON: N_("in their care"),
    GLASS_REASON: N_("broke the glass"),
}
