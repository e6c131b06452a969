"""Public operations of the patients domain. Services never commit."""

from __future__ import annotations

import datetime as dt
import re
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.core import audit, clock, ids, notify, outbox, security
from zhiyi.core.config import get_settings
from zhiyi.core.db import keep_after_rollback
from zhiyi.core.errors import Forbidden, NotFound
from zhiyi.core.i18n import N_
from zhiyi.core.policy import Actor, Decision, Resource, Role, decide
from zhiyi.domains.patients import events, policy, resident_id
from zhiyi.domains.patients import repository as repo
from zhiyi.domains.patients.errors import (
    IdNumberUnreadable,
    OneCodeInvalid,
    PatientNotFound,
    ProxyCodeInvalid,
    ProxyRuleViolated,
    SearchNeedsAFilter,
)
from zhiyi.domains.patients.models import Patient, PatientAccessGrant, PatientProxy, ProxyStatus
from zhiyi.domains.patients.onecode import issue_onecode, onecode_svg, resolve_onecode  # noqa: F401  (public here)
from zhiyi.domains.patients.records import (  # noqa: F401  (public here)
    _secret,
    age_on,
    find_by_id_number,
    get_patient,
    id_hash,
    mark_verified,
    mask_id_number,
    masked_id_number,
    parse_resident_id,
    patients_by_ids,
    register_patient,
    to_read,
    update_patient,
)
from zhiyi.domains.patients.repository import verified_condition  # noqa: F401  (public here)
from zhiyi.domains.patients.schemas import FamilyMember, PatientRead

ADULT_AGE = 18
REVEAL_ID = "id_number.reveal"
CARE_SEARCH_DEPTH = 3  # a clinician's search reads this many times its limit before the care filter
# one answer whether or not the adult is registered here, so an ID number's registration is not given away
ADULT_NOT_LINKED = N_(
    "We cannot link this adult online: they must be registered under this name with a mobile number "
    "on record, and they then get a code to agree. Otherwise please visit a registration desk together."
)
PROXY_CODE_MINUTES = 30
PROXY_MAX_ATTEMPTS = 5


async def search_patients(
    session: AsyncSession,
    *,
    campus_ids: frozenset[uuid.UUID] | None,
    name: str | None = None,
    mrn: str | None = None,
    limit: int = 50,
) -> list[Patient]:
    """Records without an access decision (the caller decides before it shows anything)."""
    return await repo.search(session, campus_ids=campus_ids, name=name, mrn=mrn, limit=limit)


async def match_patients(
    session: AsyncSession, *, campus_ids: frozenset[uuid.UUID] | None, text: str, limit: int = 20
) -> list[Patient]:
    """The patients a privacy officer means by what they typed: a record number, an ID number, a phone,
    a one-code from the patient's phone, or the start of a name (no access decision: the caller audits)."""
    text = text.strip()
    found: list[Patient] = []
    if re.fullmatch(r"P\d{10}", text):
        found = await repo.search(session, campus_ids=campus_ids, name=None, mrn=text, limit=limit)
    elif re.fullmatch(r"\d{17}[\dXx]", text):
        try:
            number = resident_id.parse(text, today=clock.today()).number
        except resident_id.ResidentIdInvalid:
            return []
        found = await repo.search(
            session, campus_ids=campus_ids, name=None, mrn=None, limit=limit, id_hash=id_hash(number)
        )
    elif re.fullmatch(r"1\d{10}", text):
        found = await repo.search(
            session, campus_ids=campus_ids, name=None, mrn=None, phone=text, limit=limit
        )
    elif len(text) > 40:  # a one-code
        try:
            pid = resolve_onecode(token=text)
        except OneCodeInvalid:
            return []
        found = [
            p
            for p in await repo.get_many(session, {pid})
            if campus_ids is None or p.registered_campus_id in campus_ids
        ]
    elif text:
        found = await repo.search(session, campus_ids=campus_ids, name=text, mrn=None, limit=limit)
    return found


def ids_at_campuses(campus_ids: frozenset[uuid.UUID]):
    """A query of the ids of the patients registered at these campuses (to filter another query by)."""
    return repo.ids_at_campuses(campus_ids)


async def find_patients(
    session: AsyncSession,
    *,
    actor: Actor,
    name: str | None = None,
    mrn: str | None = None,
    phone: str | None = None,
    id_number: str | None = None,
    limit: int = 50,
) -> list[PatientRead]:
    """A staff search: it needs a filter (no whole lists), and shows only the records the policy lets this
    actor read (a desk: its campuses; a clinician: patients in their care), each read audited."""
    if not (name or mrn or phone or id_number):
        raise SearchNeedsAFilter()
    id_h = id_hash(parse_resident_id(id_number).number) if id_number else None
    desk = bool(actor.roles & {Role.registrar, Role.admin})
    campus_ids = None if actor.group_wide or not desk else actor.campus_ids
    # a clinician's search is filtered by care below: look a little further (each row costs a care check)
    found = await repo.search(
        session,
        campus_ids=campus_ids,
        name=name,
        mrn=mrn,
        phone=phone,
        id_hash=id_h,
        limit=limit if desk else limit * CARE_SEARCH_DEPTH,
    )
    shown = []
    for p in found:
        resource = Resource("patient", p.id, {"campus_id": p.registered_campus_id})
        if len(shown) < limit and (await decide(session, actor, "read", resource)).allowed:
            audit.record(session, actor, "search", "patient", p.id, patient_id=p.id)
            shown.append(to_read(p, own=False))
    return shown


async def break_glass(
    session: AsyncSession, *, actor: Actor, patient_id: uuid.UUID, reason: str
) -> PatientRead:
    """A doctor or nurse opens the record of a patient not in their care (an emergency, a consult asked in
    the corridor): allowed for `break_glass_hours`, with the reason, audited and listed for the privacy
    officer (admins, on /admin/break-glass)."""
    if not actor.roles & policy.CARE_ROLES:
        raise Forbidden()
    patient = await repo.get(session, patient_id)
    if patient is None:
        raise audit.missing(session, actor, "break_glass", "patient", patient_id)
    now = clock.now()
    session.add(
        PatientAccessGrant(
            account_id=actor.account_id,
            actor_name=actor.display_name[:100],
            actor_roles=audit.roles_of(actor),
            patient_id=patient.id,
            reason=reason,
            granted_at=now,
            expires_at=now + dt.timedelta(hours=get_settings().break_glass_hours),
        )
    )
    await session.flush()
    audit.record(session, actor, "break_glass", "patient", patient.id, patient_id=patient.id, reason=reason)
    return await read_patient(session, actor=actor, patient_id=patient.id)


async def glass_broken(
    session: AsyncSession, *, actor: Actor, days: int = 30
) -> list[tuple[PatientAccessGrant, Patient]]:
    """The privacy officer's list: who opened which record without a care relationship, and why (their
    campuses' patients; every campus's when group-wide)."""
    return await repo.grants_since(
        session,
        since=clock.now() - dt.timedelta(days=days),
        campus_ids=None if actor.group_wide else actor.campus_ids,
    )


# --- family proxy -------------------------------------------------------------------------


async def is_proxy_of(
    session: AsyncSession, *, proxy_patient_id: uuid.UUID, dependent_patient_id: uuid.UUID
) -> bool:
    return await repo.is_active_proxy(session, proxy_patient_id, dependent_patient_id)


async def add_dependent(
    session: AsyncSession,
    *,
    actor: Actor,
    proxy_patient_id: uuid.UUID,
    name: str,
    id_number: str,
    relationship: str,
    insurance_type: str = "self_pay",
    channel: str = "dev",
) -> PatientProxy:
    """Link a family member the patient will act for.

    - a child not yet registered is registered here and linked on the guardian's word;
    - an adult must already be registered and consents with a code sent to the phone on
      their own record (never to a number the requester types);
    - a child already registered (by a desk or another guardian) is linked at a desk.
    Every attempt on an existing record is audited, refused or not.
    """
    proxy = await get_patient(session, patient_id=proxy_patient_id)
    if age_on(proxy.birth_date, clock.today()) < ADULT_AGE:
        raise ProxyRuleViolated("A guardian must be an adult.")
    rid = parse_resident_id(id_number)
    dependent = await repo.by_id_hash(session, id_hash(rid.number))
    minor = age_on(rid.birth_date, clock.today()) < ADULT_AGE
    if dependent is None:
        if not minor:
            # the same answer as for a registered adult: nothing learnt
            raise ProxyRuleViolated(ADULT_NOT_LINKED)
        # a child's identity is vouched for by their verified guardian (real-name booking works for them)
        dependent = await register_patient(
            session,
            name=name,
            id_number=rid.number,
            campus_id=proxy.registered_campus_id,
            insurance_type=insurance_type,
            verified=proxy.verified_at is not None,
        )
    else:
        refusal = _refusal_for_existing(proxy, dependent, name=name, minor=minor)
        if refusal:
            audit.keep_denied(
                session, actor, "proxy.request", "patient", dependent.id, patient_id=dependent.id
            )
            raise ProxyRuleViolated(refusal)
    existing = await repo.proxy_link(session, proxy.id, dependent.id)
    if existing is not None and existing.status != ProxyStatus.revoked:
        raise ProxyRuleViolated("This family member is already linked.")
    now = clock.now()
    link = existing or PatientProxy(
        id=ids.new_id(), proxy_patient_id=proxy.id, dependent_patient_id=dependent.id
    )
    link.relationship, link.requested_at, link.requested_by_account_id = relationship, now, actor.account_id
    link.consented_at = link.revoked_at = None
    link.consent_attempts = 0
    if minor:
        link.status, link.consent_method, link.consented_at = ProxyStatus.active, "guardian", now
    else:
        code = security.numeric_code()
        link.status, link.consent_method = ProxyStatus.pending, "sms_code"
        link.consent_code_hash = security.keyed_hash(_secret(), "proxy-code", f"{link.id}:{code}")
        link.consent_code_expires_at = now + dt.timedelta(minutes=PROXY_CODE_MINUTES)
        await notify.enqueue(
            session,
            channel,
            notify.Message(
                to=dependent.phone, template="otp.proxy", params={"code": code, "requester": proxy.name}
            ),
        )
    session.add(link)
    await session.flush()
    audit.record(session, actor, "proxy.request", "patient_proxy", link.id, patient_id=dependent.id)
    if link.status == ProxyStatus.active:
        await _proxy_event(session, events.PROXY_ACTIVATED, link)
    return link


def _refusal_for_existing(proxy: Patient, dependent: Patient, *, name: str, minor: bool) -> str | None:
    # one message for "wrong name" and "no phone", so the answer does not reveal more than needed
    if dependent.id == proxy.id:
        return "You cannot be your own dependent."
    if minor:
        return "This child is already registered; please link them at a registration desk."
    if dependent.name != name or not dependent.phone:
        return ADULT_NOT_LINKED
    return None


async def _proxy_event(session: AsyncSession, topic: str, link: PatientProxy) -> None:
    await outbox.publish(
        session,
        topic,
        {
            "link_id": str(link.id),
            "proxy_patient_id": str(link.proxy_patient_id),
            "dependent_patient_id": str(link.dependent_patient_id),
            "method": link.consent_method,
        },
    )


async def confirm_dependent(
    session: AsyncSession, *, proxy_patient_id: uuid.UUID, link_id: uuid.UUID, code: str
) -> PatientProxy:
    link = await repo.get_link(session, link_id)
    if link is None or link.proxy_patient_id != proxy_patient_id:
        raise PatientNotFound()
    if link.status != ProxyStatus.pending:
        raise ProxyRuleViolated("This family link is not waiting for a code.")
    if (
        link.consent_attempts >= PROXY_MAX_ATTEMPTS
        or (link.consent_code_expires_at or clock.now()) < clock.now()
    ):
        raise ProxyCodeInvalid()
    expected = security.keyed_hash(_secret(), "proxy-code", f"{link.id}:{code}")
    if not link.consent_code_hash or not security.constant_equals(expected, link.consent_code_hash):
        keep_after_rollback(session, repo.count_wrong_code(link.id))
        raise ProxyCodeInvalid()
    link.status, link.consented_at, link.consent_code_hash = ProxyStatus.active, clock.now(), None
    await _proxy_event(session, events.PROXY_ACTIVATED, link)
    return link


async def approve_proxy(
    session: AsyncSession, *, dependent_patient_id: uuid.UUID, link_id: uuid.UUID
) -> PatientProxy:
    """The dependent approves in their own account."""
    link = await repo.get_link(session, link_id)
    if link is None or link.dependent_patient_id != dependent_patient_id:
        raise PatientNotFound()
    if link.status != ProxyStatus.pending:
        raise ProxyRuleViolated("This family link is not waiting for approval.")
    link.status, link.consent_method, link.consented_at = ProxyStatus.active, "in_app", clock.now()
    link.consent_code_hash = None
    await _proxy_event(session, events.PROXY_ACTIVATED, link)
    return link


async def revoke_proxy(session: AsyncSession, *, patient_id: uuid.UUID, link_id: uuid.UUID) -> PatientProxy:
    """Either side may end a family link."""
    link = await repo.get_link(session, link_id)
    if link is None or patient_id not in (link.proxy_patient_id, link.dependent_patient_id):
        raise PatientNotFound()
    link.status, link.revoked_at = ProxyStatus.revoked, clock.now()
    await _proxy_event(session, events.PROXY_REVOKED, link)
    return link


async def dependents(
    session: AsyncSession, *, proxy_patient_id: uuid.UUID
) -> list[tuple[PatientProxy, Patient]]:
    return await repo.links_of_proxy(session, proxy_patient_id)


async def active_dependents(
    session: AsyncSession, *, proxy_patient_id: uuid.UUID
) -> list[tuple[PatientProxy, Patient]]:
    """The family members a patient may act for now (consented, not revoked)."""
    return [
        (link, p)
        for link, p in await repo.links_of_proxy(session, proxy_patient_id)
        if link.status == ProxyStatus.active
    ]


async def me_and_family(session: AsyncSession, *, actor: Actor) -> list[FamilyMember]:
    """The user's own record and the family members they may act for now; listing the family is
    audited (as on the portal). Empty for an account without a patient record."""
    if actor.patient_id is None:
        return []
    me = await get_patient(session, patient_id=actor.patient_id)
    out = [FamilyMember(me.id, me.name, None)]
    for link, p in await active_dependents(session, proxy_patient_id=me.id):
        audit.record(session, actor, "list", "patient_proxy", link.id, patient_id=p.id)
        out.append(FamilyMember(p.id, p.name, link.relationship))
    return out


async def proxies(
    session: AsyncSession, *, dependent_patient_id: uuid.UUID
) -> list[tuple[PatientProxy, Patient]]:
    return await repo.links_to_dependent(session, dependent_patient_id)


# --- guarded access (policy + audit in one call, for every edge) ------------------------------


async def access_patient(
    session: AsyncSession,
    *,
    actor: Actor | None,
    patient_id: uuid.UUID,
    action: str = "read",
    reason: str | None = None,
) -> tuple[Patient, Decision]:
    """Load a patient for `actor`, deciding through core.policy and auditing the attempt."""
    patient = await repo.get(session, patient_id)
    if patient is None:
        raise audit.missing(session, actor, action, "patient", patient_id)
    resource = Resource("patient", patient.id, {"campus_id": patient.registered_campus_id})
    decision = await audit.guard(session, actor, action, resource, patient_id=patient.id, reason=reason)
    return patient, decision


def is_own(actor: Actor, patient: Patient, decision: Decision) -> bool:
    """The reader is the patient, or acts for them as family."""
    return actor.patient_id == patient.id or decision.on_behalf_of == patient.id


async def read_patient(
    session: AsyncSession, *, actor: Actor | None, patient_id: uuid.UUID, action: str = "read"
) -> PatientRead:
    """A patient's record for `actor`, as they may see it (policy, audit, masking in one call)."""
    patient, decision = await access_patient(session, actor=actor, patient_id=patient_id, action=action)
    return to_read(patient, own=actor is not None and is_own(actor, patient, decision))


async def reveal_id_number(session: AsyncSession, *, actor: Actor, patient_id: uuid.UUID, reason: str) -> str:
    """The full ID number, for a role that needs it (a registration desk), audited with the reason given."""
    patient, _ = await access_patient(
        session, actor=actor, patient_id=patient_id, action=REVEAL_ID, reason=reason
    )
    if not patient.id_number_sealed:
        raise PatientNotFound()
    try:
        return security.unseal(_secret(), "resident-id", patient.id_number_sealed)
    except security.TokenInvalid:  # sealed under another data key (a misconfigured rotation)
        raise IdNumberUnreadable() from None


async def may_read(session: AsyncSession, actor: Actor, patient_id: uuid.UUID) -> bool:
    """The FHIR repository's patient gate (fhir/access.py): whether `actor` may read this patient's
    record, decided and audited as every other read of it is."""
    try:
        await access_patient(session, actor=actor, patient_id=patient_id)
    except (Forbidden, NotFound):
        return False
    return True
