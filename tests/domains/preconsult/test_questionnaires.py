"""The shipped questionnaires (no database): valid FHIR, bilingual, one per department, each with the
sections the summary needs; and questionnaires that break our rules are refused when loaded."""

from __future__ import annotations

import copy
import json
from decimal import Decimal

import pytest
from fhir.resources.R4B.questionnaire import Questionnaire
from starlette.datastructures import MultiDict

from zhiyi.core.errors import DomainError
from zhiyi.domains.preconsult import forms, responses
from zhiyi.domains.preconsult.forms import FOLDER, QuestionnaireInvalid, catalogue, load_form, text

FILES = sorted(FOLDER.glob("*.json"))
DEPARTMENTS = {"IM.CARD", "IM.RESP", "IM.GAST", "IM.NEUR", "PED", "OBGYN", "OBGYN.OBS", "DERM", "SURG.ORTH"}


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_every_file_is_a_valid_fhir_questionnaire_with_the_summary_sections(path):
    resource = json.loads(path.read_text(encoding="utf-8"))
    Questionnaire.model_validate(resource)
    form = load_form(resource, path.name)
    sections = {i.section for i in form.items.values() if i.section}
    assert sections == {
        "chief-complaint",
        "present-illness",
        "past-history",
        "medications",
        "allergies",
        "red-flags",
    }
    assert any(i.red_rule or any(o.red_flag for o in i.options) for i in form.items.values())
    for item in form.items.values():  # Chinese as written, English by the translation extension
        assert item.text("zh-CN") and item.text("en") and item.text("en") != item.text("zh-CN"), item.link_id
    assert {
        "allergy-any",
        "allergy-substance",
        "allergy-reaction",
        "meds-any",
        "cc-text",
        "cc-duration",
    } <= set(form.items)
    assert {"exists", "=", "!=", ">", "<"} & {
        c["operator"] for i in form.items.values() for c in i.raw.get("enableWhen", [])
    }


def test_the_catalogue_has_a_general_form_and_at_least_six_departments():
    c = catalogue()
    assert DEPARTMENTS <= set(c.by_department) and c.general.department is None
    # a group's form serves its subspecialties
    assert c.for_departments(["PED.GEN", "PED"]).department == "PED"
    assert c.for_departments(["OBGYN.OBS", "OBGYN"]).department == "OBGYN.OBS"  # unless one is more specific
    assert c.for_departments(["OBGYN.REPRO", "OBGYN"]).department == "OBGYN"
    assert c.for_departments(["ENT"]) is c.general


def test_pregnancy_is_asked_of_women_of_child_bearing_age_only():
    form = catalogue().for_departments(["IM.CARD"])
    repro = form.items["pmh-repro"].raw
    assert repro["enableBehavior"] == "all" and {c["operator"] for c in repro["enableWhen"]} == {
        "=",
        ">",
        "<",
    }
    female = [type(o.coding)(o.coding.system, "female") for o in form.items["patient-sex"].options][:1]
    assert "pmh-pregnant" in form.logic.enabled({"patient-sex": female, "patient-age": [30]})
    assert "pmh-pregnant" not in form.logic.enabled({"patient-sex": female, "patient-age": [70]})
    assert text(form.resource, "title", "en") == "Cardiology pre-consultation"


def base() -> dict:
    return copy.deepcopy(json.loads((FOLDER / "general.json").read_text(encoding="utf-8")))


def break_item(link_id: str, **changes):
    resource = base()

    def walk(items):
        for i in items:
            if i["linkId"] == link_id:
                i.update(changes)
            walk(i.get("item", []))

    walk(resource["item"])
    return resource


@pytest.mark.parametrize(
    "resource",
    [
        break_item("cc-text", type="quantity"),  # a type we do not support
        break_item("cc-duration", answerOption=[]),  # a choice without options
        break_item("hpi-temp", enableWhen=[{"question": "nowhere", "operator": "=", "answerBoolean": True}]),
        break_item(
            "hpi-temp", enableWhen=[{"question": "hpi-fever", "operator": ">", "answerBoolean": True}]
        ),  # booleans: = and !=
        break_item(
            "hpi-temp", enableWhen=[{"question": "hpi-fever", "operator": "=", "answerString": "yes"}]
        ),  # wrong kind
        break_item(
            "hpi-temp", enableWhen=[{"question": "hpi-fever", "operator": "exists", "answerString": "x"}]
        ),
        break_item(
            "hpi-temp", enableWhen=[{"question": "hpi-fever", "operator": "~", "answerBoolean": True}]
        ),
        break_item(
            "hpi-temp",
            enableWhen=[
                {"question": "hpi-fever", "operator": "=", "answerBoolean": True},
                {"question": "hpi-pain", "operator": "=", "answerBoolean": True},
            ],
        ),  # no enableBehavior
        break_item(
            "hpi-fever", enableWhen=[{"question": "hpi-temp", "operator": "exists", "answerBoolean": True}]
        ),  # a loop
        break_item(
            "cc-duration",
            enableWhen=[
                {"question": "allergy-reaction", "operator": "=", "answerCoding": {"code": "not-an-option"}}
            ],
        ),
        break_item("cc-text", _text=None),  # no English
        break_item("cc-text", linkId="cc-duration"),  # a repeated linkId
        {**base(), "status": "draft"},
        {**base(), "resourceType": "Patient"},
        {**base(), "item": "nope"},  # not FHIR
    ],
)
def test_questionnaires_that_break_the_rules_are_refused_at_load(resource):
    with pytest.raises(QuestionnaireInvalid):
        load_form(resource, "broken")


@pytest.mark.parametrize(
    ("link", "value", "ok"),
    [
        ("hpi-pain-score", -5, False),
        ("hpi-pain-score", 11, False),
        ("hpi-pain-score", 0, True),
        ("hpi-pain-score", 10, True),
        ("hpi-temp", Decimal("999999999"), False),
        ("hpi-temp", Decimal("38.5"), True),
        ("hpi-temp", Decimal("25"), False),
    ],
)
def test_number_answers_keep_to_the_questions_range(link, value, ok):
    """Issue 15, item 8: a pain score of -5 or 11 and a temperature of 999,999,999 are refused."""
    form = forms.load_form(json.loads((forms.FOLDER / "general.json").read_text(encoding="utf-8")))
    # the page's form, as the API's JSON is checked alike
    posted = MultiDict([(responses.field_name(link), str(value))])
    if ok:
        assert responses.answers_from_page(form, posted)[link] == [value]
    else:
        with pytest.raises(DomainError) as refused:
            responses.answers_from_page(form, posted)
        assert {"field": link, "type": "out_of_range"} in [
            {"field": e.field, "type": e.type} for e in refused.value.errors
        ]


def test_every_number_question_declares_its_range():
    for path in sorted(forms.FOLDER.glob("*.json")):
        form = forms.load_form(json.loads(path.read_text(encoding="utf-8")))
        for item in form.items.values():
            if item.type in ("integer", "decimal"):
                assert item.min_value is not None and item.max_value is not None, (path.name, item.link_id)
    resource = json.loads((forms.FOLDER / "general.json").read_text(encoding="utf-8"))
    for raw, _ in forms.walk(resource["item"]):
        if raw["linkId"] == "hpi-pain-score":
            raw["extension"] = [
                e for e in raw["extension"] if not e["url"].endswith(("minValue", "maxValue"))
            ]
    with pytest.raises(forms.QuestionnaireInvalid, match="range"):
        forms.load_form(resource)
