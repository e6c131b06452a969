"""The patient registry as FHIR resources: a Patient for each record and a RelatedPerson for each active
family proxy link. Ids are the rows' ids. Written by the outbox handlers of handlers.py and by
`project_all`.

The repository is read by group-wide admins and by the patient's own token, and cannot tell them apart
in a resource, so a Patient carries what staff see on the patients pages and nothing more: the record
number, the resident ID number only as the keyed hash the registry keeps for uniqueness (never sealed,
masked or full), the phone masked, the name and gender. The date of birth is left out on purpose: staff
never see it beside the masked ID number (the two rebuild 16 of its 18 characters; docs/architecture.md,
"Access control"), and the age they see instead is no FHIR element.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.domains.patients import repository as repo
from zhiyi.domains.patients.models import Patient, PatientProxy, ProxyStatus
from zhiyi.fhir import owned

OWNER = "patients"
MRN = "urn:zhiyi:mrn"
RESIDENT_ID_HASH = "urn:zhiyi:resident-id-hash"
IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
ROLE_CODE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
GENDER = {"M": "male", "F": "female"}
# what the proxy is to the dependent: a link says what the dependent is to the proxy ("my parent")
PROXY_IS = {
    "parent": ("CHILD", "child"),
    "child": ("PRN", "parent"),
    "spouse": ("SPS", "spouse"),
    "grandparent": ("GRNDCHILD", "grandchild"),
    "other": ("FAMMEMB", "family member"),
}
PAGE = 500


def masked_phone(phone: str) -> str:
    """As the sign-in page shows a phone: only the last four digits."""
    return "*" * 7 + phone[-4:]


def names(zh: str, en: str) -> list[dict]:
    """The Chinese name as written; the pinyin (surname first) split into family and given when known."""
    out: list[dict] = [{"use": "official", "text": zh}]
    parts = en.split()
    if len(parts) >= 2:
        out.append({"use": "usual", "text": en, "family": parts[0], "given": [" ".join(parts[1:])]})
    return out


def _mrn(p: Patient) -> dict:
    return {
        "use": "usual",
        "type": {"coding": [{"system": IDENTIFIER_TYPE, "code": "MR"}]},
        "system": MRN,
        "value": p.mrn,
    }


def _telecom(phone: str | None) -> dict:
    return {"telecom": [{"system": "phone", "value": masked_phone(phone), "use": "mobile"}]} if phone else {}


def patient(p: Patient) -> dict:
    identifiers = [_mrn(p)]
    if p.id_number_hash:
        identifiers.append({"use": "secondary", "system": RESIDENT_ID_HASH, "value": p.id_number_hash})
    return {
        "resourceType": "Patient",
        "id": str(p.id),
        "identifier": identifiers,
        "active": True,
        "name": names(p.name, p.name_en),
        **_telecom(p.phone),
        "gender": GENDER.get(p.sex, "unknown"),
        # no birthDate: see the module's docstring
        "managingOrganization": {"reference": f"Organization/{p.registered_campus_id}"},
    }


def related_person(link: PatientProxy, proxy: Patient) -> dict:
    """The proxy as a person related to the dependent (the link's patient)."""
    code, display = PROXY_IS.get(link.relationship, PROXY_IS["other"])
    period = {"start": link.consented_at.isoformat()} if link.consented_at else {}
    return {
        "resourceType": "RelatedPerson",
        "id": str(link.id),
        "identifier": [_mrn(proxy)],
        "active": True,
        "patient": {"reference": f"Patient/{link.dependent_patient_id}"},
        "relationship": [{"coding": [{"system": ROLE_CODE, "code": code, "display": display}]}],
        "name": names(proxy.name, proxy.name_en),
        **_telecom(proxy.phone),
        **({"period": period} if period else {}),
    }


async def project_patient(session: AsyncSession, patient_id: uuid.UUID) -> None:
    p = await repo.get(session, patient_id)
    if p is not None:
        await owned.put(session, owner=OWNER, resource=patient(p))


async def project_link(session: AsyncSession, link_id: uuid.UUID) -> None:
    """An active link is a RelatedPerson; a revoked (or not yet consented) one is none."""
    link = await repo.get_link(session, link_id)
    if link is None or link.status != ProxyStatus.active:
        await owned.remove(session, owner=OWNER, rtype="RelatedPerson", rid=str(link_id))
        return
    proxy = await repo.get(session, link.proxy_patient_id)
    assert proxy is not None  # a foreign key
    await owned.put(session, owner=OWNER, resource=related_person(link, proxy))


async def project_all(session: AsyncSession) -> int:
    changed, after = 0, None
    while page := await repo.patients_after(session, after, PAGE):
        changed += await owned.put_many(session, owner=OWNER, resources=[patient(p) for p in page])
        after = page[-1].id
    links = [related_person(link, proxy) for link, proxy in await repo.active_links(session)]
    changed += await owned.put_many(session, owner=OWNER, resources=links)
    return changed
