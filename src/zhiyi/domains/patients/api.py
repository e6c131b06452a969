"""JSON routes of the patients domain."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from zhiyi.core import audit
from zhiyi.core.config import get_settings
from zhiyi.core.errors import Forbidden
from zhiyi.core.policy import CLINICAL_ROLES, Actor, Role
from zhiyi.domains.patients import service
from zhiyi.domains.patients.schemas import (
    DependentCreate,
    IdNumberRead,
    OneCodeRead,
    OneCodeScan,
    PatientCreate,
    PatientRead,
    PatientUpdate,
    ProxyConfirm,
    ProxyRead,
    Reason,
)
from zhiyi.http.auth import api_actor, require_role
from zhiyi.http.tx import TxRoute, session_of

router = APIRouter(prefix="/api/v1/patients", tags=["patients"], route_class=TxRoute)
ActorDep = Annotated[Actor, Depends(api_actor)]


class AuditEventRead(BaseModel):
    at: dt.datetime
    actor_account_id: uuid.UUID | None
    actor_roles: str
    on_behalf_of_patient_id: uuid.UUID | None
    action: str
    resource_type: str
    resource_id: str | None
    outcome: str
    request_id: str | None
    client_addr: str | None
    reason: str | None = None


def _own_patient(actor: Actor) -> uuid.UUID:
    if not actor.has(Role.patient) or actor.patient_id is None:
        raise Forbidden()
    return actor.patient_id


def _proxy_read(link, dependent) -> ProxyRead:
    return ProxyRead(
        id=link.id,
        dependent_patient_id=dependent.id,
        dependent_name=dependent.name,
        relationship=link.relationship,
        status=link.status,
        consent_method=link.consent_method,
    )


@router.get(
    "",
    response_model=list[PatientRead],
    summary="Find patients by name, record number, phone or ID number (staff; never a whole list)",
)
async def search(
    request: Request,
    actor: ActorDep,
    name: Annotated[str | None, Query(max_length=60)] = None,
    mrn: Annotated[str | None, Query(max_length=20)] = None,
    phone: Annotated[str | None, Query(pattern=r"^1[3-9]\d{9}$")] = None,
    id_number: Annotated[str | None, Query(max_length=18)] = None,
):
    require_role(actor, *CLINICAL_ROLES, Role.admin)
    return await service.find_patients(
        session_of(request),
        actor=actor,
        name=(name or "").strip() or None,
        mrn=(mrn or "").strip() or None,
        phone=phone,
        id_number=id_number,
    )


@router.post("", response_model=PatientRead, status_code=201, summary="Register a patient at a desk")
async def register(request: Request, actor: ActorDep, body: PatientCreate):
    require_role(actor, Role.registrar, Role.admin)
    campus = body.registered_campus_id or next(iter(sorted(actor.campus_ids)), None)
    if campus is None or not (actor.group_wide or campus in actor.campus_ids):
        raise Forbidden()
    session = session_of(request)
    patient = await service.register_patient(
        session, campus_id=campus, **body.model_dump(exclude={"registered_campus_id"})
    )
    audit.record(session, actor, "create", "patient", patient.id, patient_id=patient.id)
    return service.to_read(patient, own=False)


@router.get("/me/dependents", response_model=list[ProxyRead], summary="Family members I act for")
async def my_dependents(request: Request, actor: ActorDep):
    session = session_of(request)
    links = await service.dependents(session, proxy_patient_id=_own_patient(actor))
    for link, p in links:
        audit.record(session, actor, "list", "patient_proxy", link.id, patient_id=p.id)
    return [_proxy_read(link, p) for link, p in links]


@router.get("/me/proxies", response_model=list[ProxyRead], summary="Family members who act for me")
async def my_proxies(request: Request, actor: ActorDep):
    session = session_of(request)
    links = await service.proxies(session, dependent_patient_id=_own_patient(actor))
    for link, p in links:  # the family members' names and links: a read of their data too
        audit.record(session, actor, "list", "patient_proxy", link.id, patient_id=p.id)
    return [
        ProxyRead(
            id=link.id,
            dependent_patient_id=link.dependent_patient_id,
            dependent_name=p.name,
            relationship=link.relationship,
            status=link.status,
            consent_method=link.consent_method,
        )
        for link, p in links
    ]


@router.post(
    "/me/dependents", response_model=ProxyRead, status_code=201, summary="Add a family member to manage"
)
async def add_dependent(request: Request, actor: ActorDep, body: DependentCreate):
    session = session_of(request)
    own = _own_patient(actor)
    link = await service.add_dependent(
        session,
        actor=actor,
        proxy_patient_id=own,
        channel=get_settings().notification_channel,
        **body.model_dump(),
    )
    dependent = await service.get_patient(session, patient_id=link.dependent_patient_id)
    return _proxy_read(link, dependent)


@router.post(
    "/me/dependents/{link_id}/confirm",
    response_model=ProxyRead,
    summary="Confirm with the family member's code",
)
async def confirm_dependent(request: Request, actor: ActorDep, link_id: uuid.UUID, body: ProxyConfirm):
    session = session_of(request)
    link = await service.confirm_dependent(
        session, proxy_patient_id=_own_patient(actor), link_id=link_id, code=body.code
    )
    dependent = await service.get_patient(session, patient_id=link.dependent_patient_id)
    audit.record(session, actor, "proxy.consent", "patient_proxy", link.id, patient_id=dependent.id)
    return _proxy_read(link, dependent)


@router.post(
    "/me/proxies/{link_id}/approve", response_model=ProxyRead, summary="Approve a family member's request"
)
async def approve_proxy(request: Request, actor: ActorDep, link_id: uuid.UUID):
    session = session_of(request)
    link = await service.approve_proxy(session, dependent_patient_id=_own_patient(actor), link_id=link_id)
    me = await service.get_patient(session, patient_id=link.dependent_patient_id)
    audit.record(session, actor, "proxy.consent", "patient_proxy", link.id, patient_id=me.id)
    return _proxy_read(link, me)


@router.delete("/me/links/{link_id}", status_code=204, summary="End a family link (either side)")
async def revoke(request: Request, actor: ActorDep, link_id: uuid.UUID):
    session = session_of(request)
    link = await service.revoke_proxy(session, patient_id=_own_patient(actor), link_id=link_id)
    audit.record(
        session, actor, "proxy.revoke", "patient_proxy", link.id, patient_id=link.dependent_patient_id
    )


@router.post("/onecode/scan", response_model=PatientRead, summary="Staff scan a patient's one-code QR")
async def scan(request: Request, actor: ActorDep, body: OneCodeScan):
    require_role(actor, *CLINICAL_ROLES, Role.admin)
    session = session_of(request)
    patient_id = service.resolve_onecode(token=body.token)
    return await service.read_patient(session, actor=actor, patient_id=patient_id, action="onecode.scan")


@router.get("/{patient_id}", response_model=PatientRead, summary="A patient's record")
async def read(request: Request, actor: ActorDep, patient_id: uuid.UUID):
    return await service.read_patient(session_of(request), actor=actor, patient_id=patient_id)


@router.post(
    "/{patient_id}/break-glass",
    response_model=PatientRead,
    summary="Open a record without a care relationship (doctor or nurse; audited with the reason)",
)
async def break_glass(request: Request, actor: ActorDep, patient_id: uuid.UUID, body: Reason):
    return await service.break_glass(
        session_of(request), actor=actor, patient_id=patient_id, reason=body.reason
    )


@router.post(
    "/{patient_id}/id-number",
    response_model=IdNumberRead,
    summary="Show a patient's full ID number (registration desk; audited with the reason)",
)
async def reveal_id_number(request: Request, actor: ActorDep, patient_id: uuid.UUID, body: Reason):
    number = await service.reveal_id_number(
        session_of(request), actor=actor, patient_id=patient_id, reason=body.reason
    )
    return IdNumberRead(id_number=number)


@router.patch("/{patient_id}", response_model=PatientRead, summary="Update contact and insurance details")
async def update(request: Request, actor: ActorDep, patient_id: uuid.UUID, body: PatientUpdate):
    session = session_of(request)
    patient, decision = await service.access_patient(
        session, actor=actor, patient_id=patient_id, action="update"
    )
    patient = await service.update_patient(
        session, patient_id=patient.id, changes=body.model_dump(exclude_unset=True)
    )
    return service.to_read(patient, own=service.is_own(actor, patient, decision))


@router.get("/{patient_id}/onecode", response_model=OneCodeRead, summary="The patient's one-code QR")
async def onecode(request: Request, actor: ActorDep, patient_id: uuid.UUID):
    patient, _ = await service.access_patient(
        session_of(request), actor=actor, patient_id=patient_id, action="onecode"
    )
    token = service.issue_onecode(patient_id=patient.id)
    return OneCodeRead(
        token=token, expires_in=get_settings().qr_token_minutes * 60, svg=service.onecode_svg(token)
    )


@router.get(
    "/{patient_id}/audit", response_model=list[AuditEventRead], summary="A patient's audit trail (admin)"
)
async def audit_trail(
    request: Request,
    actor: ActorDep,
    patient_id: uuid.UUID,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
):
    session = session_of(request)
    patient, _ = await service.access_patient(
        session, actor=actor, patient_id=patient_id, action="audit.read"
    )
    rows = await audit.trail(session, patient_id=patient.id, limit=limit)
    return [AuditEventRead.model_validate(r, from_attributes=True) for r in rows]
