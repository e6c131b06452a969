"""Answers in and out: a QuestionnaireResponse (API) or a filled page (web) becomes checked answers;
checked answers become the QuestionnaireResponse that is stored.

The server trusts nothing the browser decided: values must have their question's type, answers to
items that the skip logic disables are dropped, hidden items get the server's values from the
patient's record, and a submitted form must answer every enabled required question. Any problem is
an AnswersInvalid (422) whose errors name the question's linkId; nothing is stored then.
"""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from pydantic import ValidationError

from zhiyi.core.errors import FieldError
from zhiyi.core.i18n import N_
from zhiyi.domains.preconsult.enablewhen import Answers, Coding, Value
from zhiyi.domains.preconsult.errors import AnswersInvalid
from zhiyi.domains.preconsult.forms import VALUE_KEYS, Form, Item

STATUSES = ("in-progress", "completed")
MAX_NUMBER = Decimal(10**9)
FIRST_DAY, LAST_DAY = dt.date(1900, 1, 1), dt.date(2100, 12, 31)
ALLOWED_CONTROLS = {"\n", "\t"}  # in long text answers


class _Errors:
    def __init__(self) -> None:
        self.found: list[FieldError] = []

    def add(self, field: str, message: str, kind: str) -> None:
        if not any(e.field == field and e.type == kind for e in self.found):
            self.found.append(FieldError(field, message, kind))

    def raise_any(self) -> None:
        if self.found:
            raise AnswersInvalid(errors=self.found)


# --- a QuestionnaireResponse sent to the API -----------------------------------------------------


def status_of(resource: object) -> str:
    """The status a client asks for: in-progress (save) or completed (submit)."""
    if not isinstance(resource, dict) or resource.get("resourceType") != "QuestionnaireResponse":
        raise AnswersInvalid(
            errors=[FieldError("resourceType", "Send a FHIR QuestionnaireResponse.", "invalid")]
        )
    if resource.get("status") not in STATUSES:
        raise AnswersInvalid(
            errors=[
                FieldError("status", "The status is in-progress (save) or completed (submit).", "invalid")
            ]
        )
    return resource["status"]


def answers_from_resource(form: Form, resource: dict) -> Answers:
    """The answers of a QuestionnaireResponse, checked against the questionnaire (not yet against
    the skip logic: `clean` does that)."""
    status_of(resource)
    errors = _Errors()
    asked = resource.get("questionnaire")
    if asked is not None and asked not in (form.url, form.canonical):
        errors.add("questionnaire", N_("This response is for another questionnaire."), "wrong_questionnaire")
        errors.raise_any()
    if not _well_formed(resource.get("item")):
        errors.add("item", N_("This is not a valid FHIR QuestionnaireResponse."), "invalid")
        errors.raise_any()
    answers: dict[str, list[Value]] = {}
    _collect(form, resource.get("item") or [], answers, errors)
    errors.raise_any()
    try:  # the rest of the resource (ids, references, extensions) must be valid FHIR too
        QuestionnaireResponse.model_validate(resource)
    except ValidationError as exc:
        for e in exc.errors()[:20]:
            errors.add(
                _field_of(resource, e.get("loc", ())),
                N_("This is not a valid FHIR QuestionnaireResponse."),
                "invalid",
            )
        errors.raise_any()
    return answers


def _well_formed(items: object) -> bool:
    """Items are lists of objects, and so are their answers, all the way down."""
    if items is None:
        return True
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        return False
    for i in items:
        answers = i.get("answer")
        if answers is not None and (
            not isinstance(answers, list) or not all(isinstance(a, dict) for a in answers)
        ):
            return False
        if not _well_formed(i.get("item")) or not all(_well_formed(a.get("item")) for a in answers or []):
            return False
    return True


def _field_of(resource: dict, loc: tuple) -> str:
    """The linkId of the item an error of fhir.resources is about, else its path."""
    node: object = resource
    found = None
    for part in loc:
        try:
            node = node[part]  # type: ignore[index]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(node, dict) and isinstance(node.get("linkId"), str):
            found = node["linkId"]
    return found or ".".join(str(x) for x in loc) or "body"


def _collect(form: Form, entries: list, answers: dict[str, list[Value]], errors: _Errors) -> None:
    for entry in entries:
        link_id = entry.get("linkId") if isinstance(entry, dict) else None
        item = form.items.get(link_id) if isinstance(link_id, str) else None
        if item is None or item.type == "display":
            errors.add(str(link_id)[:100], N_("No such question in this questionnaire."), "unknown_item")
            continue
        if link_id in answers:
            errors.add(link_id, N_("This question is answered twice."), "duplicate")
            continue
        if item.type == "group":
            if entry.get("answer"):
                errors.add(link_id, N_("A group of questions has no answer of its own."), "wrong_type")
            answers[link_id] = []
            _collect(form, entry.get("item") or [], answers, errors)
            continue
        if item.prefill:  # the server fills hidden items from the patient's record; what is sent is ignored
            answers[link_id] = []
            continue
        if entry.get("item") or any(isinstance(a, dict) and a.get("item") for a in entry.get("answer") or []):
            errors.add(link_id, N_("This question has no follow-up items."), "unknown_item")
        values = [_value_from_json(item, a, errors) for a in entry.get("answer") or []]
        answers[link_id] = _checked(item, [v for v in values if v is not None], errors)
    for link_id in [k for k, v in answers.items() if form.items[k].type == "group"]:
        answers.pop(link_id)


def _value_from_json(item: Item, answer: object, errors: _Errors) -> Value | None:
    key = VALUE_KEYS[item.type]
    values = {k: v for k, v in answer.items() if k.startswith("value")} if isinstance(answer, dict) else {}
    if list(values) != [key]:
        errors.add(item.link_id, N_("This answer has the wrong type for its question."), "wrong_type")
        return None
    raw = values[key]
    try:
        if item.type == "boolean":
            if not isinstance(raw, bool):
                raise TypeError
            return raw
        if item.type == "integer":
            if isinstance(raw, bool) or not isinstance(raw, int):
                raise TypeError
            return raw
        if item.type == "decimal":
            if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
                raise TypeError
            return Decimal(str(raw))
        if item.type == "date":
            return dt.date.fromisoformat(raw) if isinstance(raw, str) and len(raw) == 10 else _raise()
        if item.type == "choice":
            if not isinstance(raw, dict) or not isinstance(raw.get("code"), str):
                raise TypeError
            return Coding(raw.get("system") if isinstance(raw.get("system"), str) else None, raw["code"])
        if not isinstance(raw, str):
            raise TypeError
        return raw
    except (TypeError, ValueError):
        errors.add(item.link_id, N_("This answer has the wrong type for its question."), "wrong_type")
        return None


def _raise():
    raise ValueError


def _checked(item: Item, values: list[Value], errors: _Errors) -> list[Value]:
    """Values in range and allowed for the item; blank text counts as no answer."""
    out: list[Value] = []
    for v in values:
        if isinstance(v, str):
            v = v.strip()
            if not v:
                continue
            if item.max_length is not None and len(v) > item.max_length:
                errors.add(item.link_id, N_("This answer is too long."), "too_long")
                continue
            allowed = ALLOWED_CONTROLS if item.type == "text" else set()
            if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co") and c not in allowed for c in v):
                errors.add(
                    item.link_id, N_("This answer contains characters that are not allowed."), "invalid_text"
                )
                continue
        elif isinstance(v, Coding):
            option = item.option(v)
            if option is None:
                errors.add(item.link_id, N_("This is not one of the choices."), "not_an_option")
                continue
            v = option.coding
        elif isinstance(v, dt.date):
            if not FIRST_DAY <= v <= LAST_DAY:
                errors.add(item.link_id, N_("This date is out of range."), "out_of_range")
                continue
        elif (
            not isinstance(v, bool)
            and isinstance(v, int | Decimal)
            and (
                abs(Decimal(v)) >= MAX_NUMBER
                or (item.min_value is not None and v < item.min_value)
                or (item.max_value is not None and v > item.max_value)
            )
        ):
            errors.add(item.link_id, N_("This number is out of range."), "out_of_range")
            continue
        if v not in out:
            out.append(v)
    if len(out) > 1 and not item.repeats:
        errors.add(item.link_id, N_("This question takes one answer."), "not_repeating")
    return out


# --- a filled page ----------------------------------------------------------------------------------


def field_name(link_id: str) -> str:
    return f"q.{link_id}"


def answers_from_page(form: Form, data, *, lenient: bool = False) -> Answers:
    """The answers of the questionnaire page (`data` is the posted form: getlist by field name);
    `lenient` leaves out what does not parse instead of refusing (to show a refused page again)."""
    errors = _Errors()
    answers: dict[str, list[Value]] = {}
    for item in form.items.values():
        if not item.is_question or item.prefill:
            continue
        raw = [v for v in data.getlist(field_name(item.link_id)) if isinstance(v, str) and v.strip()]
        values = [_value_from_text(item, v.strip(), errors) for v in raw]
        answers[item.link_id] = _checked(item, [v for v in values if v is not None], errors)
    if not lenient:
        errors.raise_any()
    return answers


def _value_from_text(item: Item, raw: str, errors: _Errors) -> Value | None:
    try:
        if item.type == "boolean":
            return {"true": True, "false": False}[raw]
        if item.type == "integer":
            return int(raw)
        if item.type == "decimal":
            value = Decimal(raw)
            if not value.is_finite():
                raise ValueError
            return value
        if item.type == "date":
            return dt.date.fromisoformat(raw)
        if item.type == "choice":
            option = next((o for o in item.options if o.coding.code == raw), None)
            return option.coding if option else Coding(None, raw)
        return raw
    except (KeyError, ValueError, InvalidOperation):
        errors.add(item.link_id, N_("This answer has the wrong type for its question."), "wrong_type")
        return None


# --- skip logic, required questions, hidden items ------------------------------------------------------


def clean(
    form: Form, answers: Answers, prefill: Mapping[str, list[Value]], *, complete: bool
) -> dict[str, list[Value]]:
    """What may be stored: the server's values for hidden items, only answers to enabled items, and
    (when submitting) every enabled required question answered."""
    given = {k: list(v) for k, v in answers.items() if k in form.items and not form.items[k].prefill and v}
    for item in form.items.values():
        if item.prefill and prefill.get(item.prefill):
            given[item.link_id] = list(prefill[item.prefill])
    enabled = form.logic.enabled(given)
    kept = {k: v for k, v in given.items() if k in enabled}
    if complete:
        errors = _Errors()
        for item in form.items.values():
            if item.is_question and item.required and item.link_id in enabled and not kept.get(item.link_id):
                errors.add(item.link_id, N_("This question needs an answer."), "required")
        errors.raise_any()
    return kept


# --- the stored QuestionnaireResponse ------------------------------------------------------------------


def _json_value(item: Item, v: Value) -> dict:
    key = VALUE_KEYS[item.type]
    if isinstance(v, Coding):
        option = item.option(v)
        coding = {"system": v.system, "code": v.code} if v.system else {"code": v.code}
        if option is not None:
            coding["display"] = option.display["zh-CN"]
        return {key: coding}
    if isinstance(v, Decimal):
        return {key: float(v)}
    if isinstance(v, dt.date):
        return {key: v.isoformat()}
    return {key: v}


def build_resource(
    form: Form,
    answers: Mapping[str, list[Value]],
    *,
    response_id: str,
    status: str,
    patient_id: str,
    author_patient_id: str,
    authored: dt.datetime,
) -> dict:
    """The QuestionnaireResponse to store (its items in the questionnaire's order), checked by
    fhir.resources."""

    def items(defs: list[dict]) -> list[dict]:
        out = []
        for d in defs:
            item = form.items[d["linkId"]]
            if item.type == "group":
                children = items(d["item"])
                if children:
                    out.append({"linkId": item.link_id, "text": d.get("text", ""), "item": children})
            elif item.is_question and answers.get(item.link_id):
                out.append(
                    {
                        "linkId": item.link_id,
                        "text": d.get("text", ""),
                        "answer": [_json_value(item, v) for v in answers[item.link_id]],
                    }
                )
        return out

    resource = {
        "resourceType": "QuestionnaireResponse",
        "id": response_id,
        "questionnaire": form.canonical,
        "status": status,
        "subject": {"reference": f"Patient/{patient_id}"},
        "authored": authored.astimezone(dt.UTC).isoformat(),
        "author": {"reference": f"Patient/{author_patient_id}"},
        "source": {"reference": f"Patient/{patient_id}"},
        "item": items(form.top),
    }
    QuestionnaireResponse.model_validate(resource)
    return resource


def answers_of_stored(form: Form, resource: dict) -> dict[str, list[Value]]:
    """The answers of a response this domain stored (to show a saved form again)."""
    answers: dict[str, list[Value]] = {}
    _collect(form, resource.get("item") or [], answers, _Errors())
    return answers
