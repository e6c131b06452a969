"""JSON routes of the pre-consultation domain: the questionnaire (FHIR Questionnaire) of a department
or a booking, saving and submitting answers (a FHIR QuestionnaireResponse: status in-progress saves,
completed submits), and the pre-visit summary."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Request

from zhiyi.core.i18n import negotiate
from zhiyi.core.policy import Actor
from zhiyi.domains.preconsult import service
from zhiyi.domains.preconsult.schemas import ResponseRead, SummaryRead
from zhiyi.http.auth import api_actor
from zhiyi.http.tx import TxRoute, session_of

router = APIRouter(prefix="/api/v1/preconsult", tags=["preconsult"], route_class=TxRoute)
ActorDep = Annotated[Actor, Depends(api_actor)]
DepartmentCode = Annotated[
    str, Path(pattern=r"^[A-Za-z0-9_.\-]{1,40}$", description="catalogue code, e.g. IM.CARD")
]
EXAMPLE = {
    "resourceType": "QuestionnaireResponse",
    "status": "completed",
    "questionnaire": "https://zhiyi.example/fhir/Questionnaire/preconsult-general|1.0.0",
    "item": [
        {
            "linkId": "cc",
            "item": [
                {"linkId": "cc-text", "answer": [{"valueString": "头痛三天"}]},
                {
                    "linkId": "cc-duration",
                    "answer": [
                        {
                            "valueCoding": {
                                "system": "https://zhiyi.example/fhir/CodeSystem/preconsult-answer",
                                "code": "1-3d",
                            }
                        }
                    ],
                },
            ],
        }
    ],
}
ResponseBody = Annotated[
    dict[str, Any],
    Body(
        description=(
            "A FHIR R4 QuestionnaireResponse: status in-progress saves the form, completed submits it"
        ),
        examples=[EXAMPLE],
    ),
]


def _locale(request: Request) -> str:
    return negotiate(request.headers.get("accept-language"))


@router.get(
    "/departments/{code}/questionnaire", summary="The questionnaire of a department (FHIR Questionnaire)"
)
async def department_questionnaire(request: Request, _actor: ActorDep, code: DepartmentCode) -> dict:
    return (await service.form_for_department(session_of(request), code=code)).resource


@router.get("/bookings/{booking_id}/questionnaire", summary="The questionnaire to fill before a booked visit")
async def booking_questionnaire(request: Request, actor: ActorDep, booking_id: uuid.UUID) -> dict:
    target = await service.target_for_booking(session_of(request), actor=actor, booking_id=booking_id)
    return target.form.resource


@router.put(
    "/bookings/{booking_id}/response",
    response_model=ResponseRead,
    summary="Save (in-progress) or submit (completed) the answers for a booked visit",
)
async def save_for_booking(request: Request, actor: ActorDep, booking_id: uuid.UUID, body: ResponseBody):
    session = session_of(request)
    target = await service.target_for_booking(session, actor=actor, booking_id=booking_id)
    return await service.save_resource(session, actor=actor, target=target, resource=body)


@router.put(
    "/departments/{code}/response",
    response_model=ResponseRead,
    summary="Save or submit the answers for a department (after triage); patient_id: a family member",
)
async def save_for_department(
    request: Request,
    actor: ActorDep,
    code: DepartmentCode,
    body: ResponseBody,
    patient_id: uuid.UUID | None = None,
):
    session = session_of(request)
    target = await service.target_for_department(session, actor=actor, code=code, patient_id=patient_id)
    return await service.save_resource(session, actor=actor, target=target, resource=body)


@router.get(
    "/bookings/{booking_id}/response",
    response_model=ResponseRead,
    summary="The latest form of a booking, in progress or submitted",
)
async def booking_response(request: Request, actor: ActorDep, booking_id: uuid.UUID):
    return service.response_read(
        await service.latest_for_booking(session_of(request), actor=actor, booking_id=booking_id)
    )


@router.get(
    "/bookings/{booking_id}/summary",
    response_model=SummaryRead,
    summary="The pre-visit summary of a booking (its doctor, the patient, their family)",
)
async def booking_summary(request: Request, actor: ActorDep, booking_id: uuid.UUID):
    return await service.summary_for_booking(
        session_of(request), actor=actor, booking_id=booking_id, locale=_locale(request)
    )


@router.get(
    "/responses/{response_id}",
    response_model=ResponseRead,
    summary="A stored form (FHIR QuestionnaireResponse)",
)
async def get_response(request: Request, actor: ActorDep, response_id: uuid.UUID):
    return service.response_read(
        await service.get_response(session_of(request), actor=actor, response_id=response_id)
    )


@router.get(
    "/responses/{response_id}/summary", response_model=SummaryRead, summary="The summary of a stored form"
)
async def response_summary(request: Request, actor: ActorDep, response_id: uuid.UUID):
    row = await service.get_response(session_of(request), actor=actor, response_id=response_id)
    return service.summary_read(row, _locale(request))
