"""Factories for the pre-consultation domain: QuestionnaireResponse bodies and a submitted form."""

from __future__ import annotations

from zhiyi.domains.preconsult import service
from zhiyi.domains.preconsult.forms import catalogue

ANS = "https://zhiyi.example/fhir/CodeSystem/preconsult-answer"


def code(c: str) -> dict:
    return {"valueCoding": {"system": ANS, "code": c}}


def text(s: str) -> dict:
    return {"valueString": s}


def yes(v: bool = True) -> dict:
    return {"valueBoolean": v}


def response(
    answers: dict[str, list[dict]], *, status: str = "completed", questionnaire: str | None = None
) -> dict:
    """A QuestionnaireResponse with one item per answered question (the server files them under their
    groups)."""
    body = {
        "resourceType": "QuestionnaireResponse",
        "status": status,
        "item": [{"linkId": k, "answer": v} for k, v in answers.items()],
    }
    if questionnaire:
        body["questionnaire"] = questionnaire
    return body


def cardiology_answers(**more: list[dict]) -> dict[str, list[dict]]:
    """A complete cardiology form: chest tightness, penicillin allergy, chest pain at rest (a red flag)."""
    return {
        "cc-text": [text("胸闷三天")],
        "cc-duration": [code("1-3d")],
        "card-chest-pain": [yes()],
        "card-pain-type": [code("pressure")],
        "meds-any": [yes(False)],
        "allergy-any": [yes()],
        "allergy-substance": [text("青霉素")],
        "allergy-reaction": [code("rash")],
        "rf-card-rest-pain": [yes()],
        **more,
    }


async def submitted(session, *, actor, booking_id):
    """A submitted cardiology form for a booking, as the patient's phone would leave it."""
    target = await service.target_for_booking(session, actor=actor, booking_id=booking_id)
    form = catalogue().for_departments([target.department_code])
    return await service.save_resource(
        session,
        actor=actor,
        target=target,
        resource=response(cardiology_answers(), questionnaire=form.canonical),
    )
