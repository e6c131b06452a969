"""enableWhen semantics (no database): operators, kinds of values, enableBehavior, nested groups,
conditions on disabled questions, loops; and the server's cleaning of answers (disabled answers
dropped, required questions, hidden items from the record)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from zhiyi.domains.preconsult.enablewhen import Coding, CycleError, SkipLogic, condition_holds
from zhiyi.domains.preconsult.errors import AnswersInvalid
from zhiyi.domains.preconsult.forms import load_form
from zhiyi.domains.preconsult.responses import clean

S = "http://example.org/s"
RED = Coding(S, "red")


@pytest.mark.parametrize(
    ("op", "given", "expected", "holds"),
    [
        ("exists", [], True, False),
        ("exists", [1], True, True),
        ("exists", [], False, True),
        ("exists", ["x"], False, False),
        ("=", [True], True, True),
        ("=", [False], True, False),
        ("=", [], False, False),  # unanswered is not "no"
        ("!=", [False], True, True),
        ("!=", [True], True, False),
        ("!=", [], True, False),  # nor "not yes"
        ("=", [RED], Coding(S, "red"), True),
        ("=", [RED], Coding(None, "red"), True),  # no system: any system
        ("=", [RED], Coding("http://other", "red"), False),
        ("=", [Coding(S, "blue"), RED], RED, True),  # repeats: any
        ("!=", [Coding(S, "blue"), RED], RED, False),
        ("!=", [Coding(S, "blue")], RED, True),
        (">", [5], 4, True),
        (">", [4], 4, False),
        (">=", [4], 4, True),
        ("<", [3], 4, True),
        ("<=", [5], 4, False),
        (">", [Decimal("38.6")], Decimal("38.5"), True),
        (">", [39], Decimal("38.5"), True),  # integer against decimal
        ("=", [Decimal("2.0")], 2, True),
        ("<", [dt.date(2024, 1, 1)], dt.date(2024, 6, 1), True),
        (">", [dt.date(2024, 1, 1)], dt.date(2024, 6, 1), False),
        ("=", ["abc"], "abc", True),
        (">", ["b"], "a", True),
        ("=", ["1"], 1, False),
        (">", [True], False, False),
        ("=", [1], True, False),  # other kinds never match
        (">", [RED], RED, False),  # codings are not ordered
    ],
)
def test_operators(op, given, expected, holds):
    assert condition_holds(op, given, expected) is holds


def rng(typ, low=0, high=200):
    key = "valueInteger" if typ == "integer" else "valueDecimal"
    return [
        {"url": "http://hl7.org/fhir/StructureDefinition/minValue", key: low},
        {"url": "http://hl7.org/fhir/StructureDefinition/maxValue", key: high},
    ]


def q(link, typ="boolean", **more):
    if typ in ("integer", "decimal"):
        more["extension"] = more.get("extension", []) + rng(typ)
    return {"linkId": link, "type": typ, "text": link, **more}


def when(question, op="=", **answer):
    return {"question": question, "operator": op, **answer}


ITEMS = [
    q("smoke"),
    q("packs", "decimal", enableWhen=[when("smoke", answerBoolean=True)]),
    q("age", "integer"),
    q(
        "sex",
        "choice",
        answerOption=[
            {"valueCoding": {"system": S, "code": "f"}},
            {"valueCoding": {"system": S, "code": "m"}},
        ],
    ),
    {
        "linkId": "repro",
        "type": "group",
        "text": "g",
        "enableBehavior": "all",
        "enableWhen": [
            when("sex", answerCoding={"system": S, "code": "f"}),
            when("age", ">", answerInteger=11),
            when("age", "<", answerInteger=56),
        ],
        "item": [
            q("pregnant"),
            {
                "linkId": "inner",
                "type": "group",
                "text": "g2",
                "item": [q("weeks", "integer", enableWhen=[when("pregnant", answerBoolean=True)])],
            },
        ],
    },
    q(
        "either",
        enableBehavior="any",
        enableWhen=[when("smoke", answerBoolean=True), when("age", ">=", answerInteger=80)],
    ),
    q("after-packs", enableWhen=[when("packs", "exists", answerBoolean=True)]),
    q("note", "string", enableWhen=[when("weeks", ">", answerInteger=20)]),
]


@pytest.fixture(scope="module")
def logic():
    return SkipLogic(ITEMS)


def test_nothing_answered_shows_only_unconditional_items(logic):
    assert logic.enabled({}) == {"smoke", "age", "sex"}


def test_a_follow_up_appears_after_its_trigger(logic):
    assert "packs" in logic.enabled({"smoke": [True]})
    assert "packs" not in logic.enabled({"smoke": [False]})


def test_enable_behavior_all_and_any(logic):
    woman = {"sex": [Coding(S, "f")], "age": [30]}
    assert {"repro", "pregnant", "inner"} <= logic.enabled(woman)
    assert "repro" not in logic.enabled({**woman, "age": [60]})  # all: one condition fails
    assert "repro" not in logic.enabled({**woman, "sex": [Coding(S, "m")]})
    assert "either" in logic.enabled({"smoke": [False], "age": [85]})  # any: one is enough
    assert "either" in logic.enabled({"smoke": [True], "age": [20]})
    assert "either" not in logic.enabled({"smoke": [False], "age": [20]})


def test_nested_groups_follow_their_parents(logic):
    pregnant = {"sex": [Coding(S, "f")], "age": [30], "pregnant": [True]}
    assert "weeks" in logic.enabled(pregnant)
    # the group closes: everything inside closes with it, whatever its own condition says
    closed = logic.enabled({**pregnant, "age": [70], "weeks": [30]})
    assert not {"repro", "pregnant", "inner", "weeks", "note"} & closed


def test_a_condition_on_a_disabled_question_sees_no_answer(logic):
    # the packs answer is still held (the smoker said no later): "after-packs" must not appear
    assert "after-packs" in logic.enabled({"smoke": [True], "packs": [Decimal(1)]})
    assert "after-packs" not in logic.enabled({"smoke": [False], "packs": [Decimal(1)]})
    chained = {"sex": [Coding(S, "f")], "age": [30], "pregnant": [True], "weeks": [25]}
    assert "note" in logic.enabled(chained)
    # weeks disabled -> note disabled too
    assert "note" not in logic.enabled({**chained, "pregnant": [False]})


def test_loops_are_refused():
    with pytest.raises(CycleError):
        SkipLogic(
            [
                q("a", enableWhen=[when("b", answerBoolean=True)]),
                q("b", enableWhen=[when("a", answerBoolean=True)]),
            ]
        )
    with pytest.raises(CycleError):  # a child asking about its own group's... question inside
        SkipLogic(
            [
                {
                    "linkId": "g",
                    "type": "group",
                    "text": "g",
                    "enableWhen": [when("c", answerBoolean=True)],
                    "item": [q("c")],
                }
            ]
        )


def translated(items):
    """Every text with its English (load_form insists on both languages)."""
    for i in items:
        i["_text"] = {
            "extension": [
                {
                    "url": "http://hl7.org/fhir/StructureDefinition/translation",
                    "extension": [
                        {"url": "lang", "valueCode": "en"},
                        {"url": "content", "valueString": i["text"]},
                    ],
                }
            ]
        }
        translated(i.get("item", []))
    return items


def form_of(items):
    items = translated(items)
    return load_form(
        {
            "resourceType": "Questionnaire",
            "status": "active",
            "url": "https://t/q",
            "version": "1",
            "item": items,
        },
        "test",
    )


def test_clean_drops_disabled_answers_and_checks_required_enabled_questions():
    form = form_of(
        [
            {"linkId": "allergy", "type": "boolean", "text": "a", "required": True},
            {
                "linkId": "which",
                "type": "string",
                "text": "w",
                "required": True,
                "enableWhen": [when("allergy", answerBoolean=True)],
            },
        ]
    )
    assert clean(form, {"allergy": [False], "which": ["penicillin"]}, {}, complete=True) == {
        "allergy": [False]
    }
    with pytest.raises(AnswersInvalid) as exc:
        clean(form, {"allergy": [True]}, {}, complete=True)
    assert [(e.field, e.type) for e in exc.value.errors] == [("which", "required")]
    # a draft may be unfinished
    assert clean(form, {"allergy": [True]}, {}, complete=False) == {"allergy": [True]}
    with pytest.raises(AnswersInvalid):
        clean(form, {}, {}, complete=True)


def test_hidden_items_take_the_records_values():
    hidden = [
        {"url": "http://hl7.org/fhir/StructureDefinition/questionnaire-hidden", "valueBoolean": True},
        {"url": "https://zhiyi.example/fhir/StructureDefinition/prefill", "valueCode": "patient-age"},
    ]
    form = form_of(
        [
            {"linkId": "age", "type": "integer", "text": "age", "extension": hidden + rng("integer")},
            q("old", enableWhen=[when("age", ">", answerInteger=64)]),
        ]
    )
    assert clean(form, {"age": [99], "old": [True]}, {"patient-age": [30]}, complete=True) == {"age": [30]}
    assert clean(form, {"old": [True]}, {"patient-age": [70]}, complete=True) == {"age": [70], "old": [True]}
