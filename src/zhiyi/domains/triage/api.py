"""JSON routes of the triage domain: assess a complaint, the body map, feedback and reassignment,
emergency review, and hand-overs to the service desk."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from zhiyi.core import i18n
from zhiyi.core.policy import Actor
from zhiyi.domains.triage import handover, knowledge, service
from zhiyi.domains.triage.schemas import (
    AssessmentRead,
    Feedback,
    HandoverAsk,
    HandoverClose,
    HandoverRead,
    MessageSend,
    Reassign,
    TriageAsk,
)
from zhiyi.http.auth import api_actor
from zhiyi.http.tx import TxRoute, session_of

router = APIRouter(prefix="/api/v1/triage", tags=["triage"], route_class=TxRoute)
ActorDep = Annotated[Actor, Depends(api_actor)]


class Region(BaseModel):
    id: str
    view: str
    name_zh: str
    name_en: str
    complaints: list[dict]  # {"id", "name_zh", "name_en"}: what to offer without typing


class EmergencyRead(BaseModel):
    id: uuid.UUID
    patient_id: uuid.UUID | None
    text: str
    red_flags: list[str]
    created_at: str


@router.post(
    "/assessments",
    status_code=201,
    response_model=AssessmentRead,
    summary="Suggest departments for a complaint, or the emergency instruction on red flags",
)
async def assess(request: Request, actor: ActorDep, body: TriageAsk):
    return await service.assess(session_of(request), actor=actor, ask=body, lang=_answer_lang(request))


def _answer_lang(request: Request) -> str | None:
    """The language of the answer: the request's Accept-Language when it names Chinese or English, else
    the text's."""
    header = request.headers.get("accept-language", "")
    if not any(t.split(";")[0].strip().lower()[:2] in ("zh", "en") for t in header.split(",")):
        return None
    return "zh" if i18n.negotiate(header) == "zh_CN" else "en"


@router.get("/assessments/{assessment_id}", response_model=AssessmentRead, summary="One of my assessments")
async def get(request: Request, actor: ActorDep, assessment_id: uuid.UUID):
    return await service.get_assessment(
        session_of(request), actor=actor, assessment_id=assessment_id, lang=_answer_lang(request)
    )


@router.post("/assessments/{assessment_id}/feedback", status_code=204, summary="Did the suggestion help?")
async def feedback(request: Request, actor: ActorDep, assessment_id: uuid.UUID, body: Feedback):
    await service.give_feedback(
        session_of(request), actor=actor, assessment_id=assessment_id, helped=body.helped
    )


@router.post(
    "/assessments/{assessment_id}/reassign",
    status_code=204,
    summary="The receiving doctor names the department that was right",
)
async def reassign(request: Request, actor: ActorDep, assessment_id: uuid.UUID, body: Reassign):
    await service.reassign(
        session_of(request), actor=actor, assessment_id=assessment_id, department_code=body.department_code
    )


@router.get(
    "/body-map", response_model=list[Region], summary="The body map's regions and their common complaints"
)
async def body_map():
    kn = knowledge.knowledge()
    return [
        Region(
            id=p.id,
            view=p.view,
            name_zh=p.name_zh,
            name_en=p.name_en,
            complaints=[
                {"id": c, "name_zh": kn.symptoms[c].name_zh, "name_en": kn.symptoms[c].name_en}
                for c in p.complaints
            ],
        )
        for p in kn.body_parts.values()
    ]


@router.get(
    "/emergencies", response_model=list[EmergencyRead], summary="Emergency answers to review (clinical staff)"
)
async def emergencies(request: Request, actor: ActorDep):
    rows = await service.emergencies(session_of(request), actor=actor)
    return [
        EmergencyRead(
            id=r.id,
            patient_id=r.patient_id,
            text=r.text,
            red_flags=list(r.red_flags),
            created_at=r.created_at.isoformat(),
        )
        for r in rows
    ]


@router.post(
    "/emergencies/{assessment_id}/reviewed", status_code=204, summary="Mark an emergency answer reviewed"
)
async def reviewed(request: Request, actor: ActorDep, assessment_id: uuid.UUID):
    await service.mark_reviewed(session_of(request), actor=actor, assessment_id=assessment_id)


@router.post(
    "/handovers", status_code=201, response_model=HandoverRead, summary="Ask for a person at the service desk"
)
async def ask_for_a_person(request: Request, actor: ActorDep, body: HandoverAsk):
    return await handover.request_handover(
        session_of(request), actor=actor, assessment_id=body.assessment_id, text=body.text
    )


@router.get("/handovers/{handover_id}", response_model=HandoverRead, summary="My request to the service desk")
async def my_handover(request: Request, actor: ActorDep, handover_id: uuid.UUID):
    return await handover.my_handover(session_of(request), actor=actor, handover_id=handover_id)


@router.post(
    "/handovers/{handover_id}/messages", response_model=HandoverRead, summary="Write in a hand-over's chat"
)
async def message(request: Request, actor: ActorDep, handover_id: uuid.UUID, body: MessageSend):
    return await handover.send_message(
        session_of(request), actor=actor, handover_id=handover_id, text=body.text
    )


@router.get("/desk/handovers", response_model=list[HandoverRead], summary="The service desk's queue")
async def desk_queue(request: Request, actor: ActorDep):
    return await handover.handover_queue(session_of(request), actor=actor)


@router.post(
    "/desk/handovers/{handover_id}/take", response_model=HandoverRead, summary="Take a waiting request"
)
async def take(request: Request, actor: ActorDep, handover_id: uuid.UUID):
    return await handover.take_handover(session_of(request), actor=actor, handover_id=handover_id)


@router.post(
    "/desk/handovers/{handover_id}/close",
    response_model=HandoverRead,
    summary="Close a conversation, with the department advised",
)
async def close(request: Request, actor: ActorDep, handover_id: uuid.UUID, body: HandoverClose):
    return await handover.close_handover(
        session_of(request), actor=actor, handover_id=handover_id, department_code=body.department_code
    )
