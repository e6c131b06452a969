"""Search index extraction: the compiled extractors agree with fhirpathpy on every HL7 example and every
Synthea resource, and the values and index rows are what FHIR search compares."""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from decimal import Decimal
from pathlib import Path

import fhirpathpy
import pytest
from fhirpathpy.engine.nodes import ResourceNode

from tests.conftest import shared_data
from zhiyi.fhir import params
from zhiyi.fhir.extract import compiled_share, extractors, index_resource
from zhiyi.fhir.paths import FHIRPATH_OPTIONS, R4_MODEL, compile_path
from zhiyi.fhir.values import (
    MAX_US,
    MIN_US,
    date_bounds,
    decimal_bounds,
    fold,
    parse_reference,
    period_bounds,
    to_decimal,
)

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
UUID = "urn:uuid:9d4ad9b9-7ad2-4d1e-9d5c-2f7d1a5c2b11"
ABSOLUTE = "http://a.b/fhir/Patient/123"


def us(text: str) -> int:
    """Microseconds since the epoch of an ISO instant, computed by the standard library."""
    return (dt.datetime.fromisoformat(text) - EPOCH) // dt.timedelta(microseconds=1)


# --- compiled extractors against fhirpathpy -------------------------------------------------------


def declared_resources(path: Path) -> list[dict]:
    """The declared-type resources of one JSON file: itself, or a Bundle's entries."""
    data = json.loads(path.read_text(encoding="utf-8"))
    found = [data] if data.get("resourceType") in params.declared_types() else []
    if data.get("resourceType") == "Bundle":
        entries = data.get("entry") or []
        # A transaction's urn:uuid references become Type/id once stored, as the store will do.
        local = {
            e["fullUrl"]: f"{e['resource']['resourceType']}/{e['resource']['id']}"
            for e in entries
            if e.get("fullUrl", "").startswith("urn:") and "id" in e.get("resource", {})
        }
        for entry in entries:
            resource = entry.get("resource") or {}
            if resource.get("resourceType") in params.declared_types():
                found.append(_rewrite(resource, local) if local else resource)
    return found


def _rewrite(value, local: dict[str, str]):
    if isinstance(value, dict):
        return {
            k: local.get(v, v) if k == "reference" and isinstance(v, str) else _rewrite(v, local)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_rewrite(v, local) for v in value]
    return value


@functools.cache
def whole_expressions(resource_type: str) -> dict[str, str]:
    """The spec's whole expression of every indexed parameter of a type; a Resource-level one rooted at the
    type, which is what `Resource.` means (fhirpathpy does not match a concrete resource to it)."""
    rows = json.loads(params.TABLE.read_text(encoding="utf-8"))
    found = {}
    for row in rows:
        if resource_type in row["base"] or "Resource" in row["base"]:
            if row["type"] != "composite" and row["code"] not in ("_id", "_lastUpdated"):
                found[row["code"]] = re.sub(r"^Resource\.", f"{resource_type}.", row["expression"])
    return found


@functools.cache
def fhirpath(expression: str):
    return fhirpathpy.compile(expression, model=R4_MODEL, options=FHIRPATH_OPTIONS)


def fhirpath_nodes(resource: dict, expression: str) -> list[tuple[str | None, object]]:
    try:
        items = fhirpath(expression)(resource)
    except ValueError as exc:
        # fhirpathpy (rightly) rejects `(X as T)` on several Xs; the spec means each X: ofType(T).
        assert "singleton" in str(exc), exc
        items = fhirpath(re.sub(r"\(([\w.]+) as (\w+)\)", r"\1.ofType(\2)", expression))(resource)
    nodes = []
    for item in items:
        if isinstance(item, ResourceNode):
            if item.data is None:
                continue
            kind = item.path if item.path and "." not in item.path else None
            nodes.append((kind, item.data))
        else:
            nodes.append((None, item))
    return nodes


def canon(value) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def mismatches(resource: dict) -> list[str]:
    kind = resource["resourceType"]
    wholes = whole_expressions(kind)
    found = []
    for code, _, extractor in extractors(kind):
        ours = extractor(resource)
        theirs = fhirpath_nodes(resource, wholes[code])
        ours_values = {canon(v) for _, v in ours}
        if ours_values != {canon(v) for _, v in theirs}:
            found.append(f"{kind}/{resource.get('id')} {code}: {ours} != {theirs}")
            continue
        typed = {(t, canon(v)) for t, v in ours}
        for t, v in theirs:
            if t is not None and (t, canon(v)) not in typed:
                found.append(f"{kind}/{resource.get('id')} {code}: {t} {v} typed {ours}")
    return found


def check_rows(index) -> None:
    for row in index.dates:
        assert isinstance(row[1], int) and MIN_US <= row[1] <= row[2] <= MAX_US, row
    for row in index.quantities + index.numbers:
        assert isinstance(row[1], Decimal), row
    for row in index.strings:
        assert row[1] == fold(row[2]), row
    for row in index.references:
        assert row[1:] != (None, None, None), row


@pytest.mark.parametrize("folder", ["fhir-r4-examples", "synthea-r4"])
def test_compiled_extractors_agree_with_fhirpathpy(folder):
    directory = shared_data(folder)
    resources = [r for path in sorted(directory.glob("*.json")) for r in declared_resources(path)]
    assert len(resources) > 100
    found = []
    for resource in resources:
        before = canon(resource)
        found.extend(mismatches(resource))
        check_rows(index_resource(resource))
        assert canon(resource) == before, "extraction changed the resource"
    assert not found, "\n".join(found[:20])


def test_compiled_share():
    share = compiled_share()
    print(f"compiled {share.compiled} of {share.total}; fhirpathpy: {share.fallbacks}")
    assert share.total > 700
    assert share.compiled / share.total > 0.95


# --- paths ----------------------------------------------------------------------------------------


def test_choice_types_come_from_the_json_key():
    obs = {"resourceType": "Observation", "effectiveDateTime": "2020-01-02", "valueQuantity": {"value": 1}}
    assert compile_path("Observation.effective", "Observation")(obs) == [("dateTime", "2020-01-02")]
    value = compile_path("(Observation.value as Quantity) | (Observation.value as string)", "Observation")
    assert value.compiled and value(obs) == [("Quantity", {"value": 1})]
    assert compile_path("Observation.value.as(CodeableConcept)", "Observation")(obs) == []
    onset = compile_path("Condition.onset.as(Age)", "Condition")
    assert onset({"onsetAge": {"value": 3}, "onsetRange": {}}) == [("Age", {"value": 3})]


def test_filters_on_references_and_fields():
    patient_refs = compile_path("Observation.subject.where(resolve() is Patient)", "Observation")
    assert patient_refs({"subject": {"reference": "Patient/1"}}) == [
        ("Reference", {"reference": "Patient/1"})
    ]
    assert patient_refs({"subject": {"reference": "Group/1"}}) == []
    assert patient_refs({"subject": {"reference": "urn:uuid:1", "type": "Patient"}})
    email = compile_path("Patient.telecom.where(system='email')", "Patient")
    telecom = [{"system": "phone", "value": "1"}, {"system": "email", "value": "a@b"}]
    assert email({"telecom": telecom}) == [("ContactPoint", telecom[1])]


def test_other_forms_fall_back_to_fhirpathpy():
    first = compile_path("Patient.name.first().family", "Patient")
    assert not first.compiled
    assert first({"resourceType": "Patient", "name": [{"family": "A"}, {"family": "B"}]}) == [("string", "A")]


# --- values ---------------------------------------------------------------------------------------


def test_fold():
    assert fold("Chalmers") == fold("chälmers") == fold(" CHALMERS ") == "chalmers"
    assert fold("Peter \t James\n Chalmers") == "peter james chalmers"
    assert fold("张三") == "张三"
    assert fold("Ｍüller") == "muller"  # compatibility forms fold too
    assert fold("") == ""


def test_epoch_bounds():
    assert MIN_US == us("0001-01-01T00:00:00+00:00")
    assert MAX_US == us("9999-12-31T23:59:59.999999+00:00")


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [
        ("2013", "2013-01-01T00:00:00+00:00", "2013-12-31T23:59:59.999999+00:00"),
        ("2013-01", "2013-01-01T00:00:00+00:00", "2013-01-31T23:59:59.999999+00:00"),
        ("2012-02", "2012-02-01T00:00:00+00:00", "2012-02-29T23:59:59.999999+00:00"),
        ("2013-02", "2013-02-01T00:00:00+00:00", "2013-02-28T23:59:59.999999+00:00"),
        ("2000-02", "2000-02-01T00:00:00+00:00", "2000-02-29T23:59:59.999999+00:00"),
        ("1900-02", "1900-02-01T00:00:00+00:00", "1900-02-28T23:59:59.999999+00:00"),
        ("2012-02-29", "2012-02-29T00:00:00+00:00", "2012-02-29T23:59:59.999999+00:00"),
        ("2013-01-14T10:00+08:00", "2013-01-14T02:00:00+00:00", "2013-01-14T02:00:59.999999+00:00"),
        ("2013-01-14T10:00", "2013-01-14T10:00:00+00:00", "2013-01-14T10:00:59.999999+00:00"),
        ("2013-01-14T10:00:00Z", "2013-01-14T10:00:00+00:00", "2013-01-14T10:00:00.999999+00:00"),
        ("2013-01-14T23:30:05-05:00", "2013-01-15T04:30:05+00:00", "2013-01-15T04:30:05.999999+00:00"),
        (
            "2013-01-14T10:00:00.123+01:00",
            "2013-01-14T09:00:00.123+00:00",
            "2013-01-14T09:00:00.123999+00:00",
        ),
        (
            "2013-01-14T10:00:00.1234567Z",
            "2013-01-14T10:00:00.123456+00:00",
            "2013-01-14T10:00:00.123456+00:00",
        ),
        ("0001", "0001-01-01T00:00:00+00:00", "0001-12-31T23:59:59.999999+00:00"),
    ],
)
def test_date_bounds(text, low, high):
    assert date_bounds(text) == (us(low), us(high))


@pytest.mark.parametrize(
    "text",
    ["2013-13", "2013-1", "abc", "", "2013-02-29", "2013-00", "2013-01-32", "0000", "2013-01-14T25:00Z",
     "2013-01-14T10:60Z", "2013-01-14T10:00:61Z", "2013-01-14T10:00+15:00", "2013-01-14T10",
     "2013-01-14 10:00"],
)  # fmt: skip
def test_date_bounds_rejects(text):
    with pytest.raises(ValueError, match="2013|abc|0000|not a FHIR"):
        date_bounds(text)


def test_period_bounds():
    assert period_bounds({"start": "2013-01", "end": "2013-02-10"}) == (
        us("2013-01-01T00:00:00+00:00"),
        us("2013-02-10T23:59:59.999999+00:00"),
    )
    assert period_bounds({"start": "2013"}) == (us("2013-01-01T00:00:00+00:00"), MAX_US)
    assert period_bounds({"end": "2013"}) == (MIN_US, us("2013-12-31T23:59:59.999999+00:00"))


def test_decimals():
    assert decimal_bounds("100") == (Decimal("99.5"), Decimal("100.5"))
    assert decimal_bounds("100.00") == (Decimal("99.995"), Decimal("100.005"))
    assert decimal_bounds("-0.5") == (Decimal("-0.55"), Decimal("-0.45"))
    assert decimal_bounds("1e2") == (Decimal(50), Decimal(150))
    assert (
        to_decimal(0.1) == Decimal("0.1")
        and to_decimal(7) == Decimal(7)
        and to_decimal("1.50") == Decimal("1.50")
    )
    for bad in (True, "abc", "NaN", "1.2.3", None, Decimal("Infinity")):
        with pytest.raises(ValueError):
            to_decimal(bad)


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("Patient/123", ("Patient", "123", None)),
        ("Patient/123/_history/2", ("Patient", "123", None)),
        ("http://a.b/fhir/Patient/123", ("Patient", "123", "http://a.b/fhir/Patient/123")),
        ("http://a.b/fhir/Patient/123/_history/2", ("Patient", "123", "http://a.b/fhir/Patient/123")),
        (UUID, (None, None, UUID)),
        ("#p1", None),
        ("", None),
        ("not a reference", None),
    ],
)  # fmt: skip
def test_parse_reference(text, parsed):
    assert parse_reference(text) == parsed


# --- index rows -----------------------------------------------------------------------------------

PATIENT = {
    "resourceType": "Patient",
    "id": "p1",
    "meta": {
        "lastUpdated": "2024-01-01T00:00:00Z",
        "tag": [{"system": "http://t", "code": "demo", "display": "Demo"}],
        "profile": ["http://hl7.org/fhir/StructureDefinition/Patient"],
        "security": [{"system": "http://s", "code": "R"}],
        "source": "http://zhiyi/source",
    },
    "identifier": [{"system": "urn:oid:1.2", "value": "MRN-1", "type": {"text": "Medical Record"}}],
    "name": [
        {"text": "Dr Peter Chälmers", "family": "Chälmers", "given": ["Peter", "James"], "prefix": ["Dr"]}
    ],
    "telecom": [{"system": "phone", "value": "+86 10 1234"}, {"system": "email", "value": "p@x.cn"}],
    "gender": "male",
    "birthDate": "1974-12",
    "address": [{"line": ["534 Erewhon St"], "city": "PleasantVille", "postalCode": "3999", "country": "AU"}],
    "generalPractitioner": [{"reference": "http://other.org/fhir/Practitioner/gp/_history/3"}],
    "managingOrganization": {"identifier": {"value": "only-an-identifier"}},
}


def rows(index, kind: str, param: str) -> list[tuple]:
    return [row[1:] for row in getattr(index, kind) if row[0] == param]


def test_patient_rows():
    index = index_resource(PATIENT)
    name = rows(index, "strings", "name")
    assert ("chalmers", "Chälmers") in name and ("peter", "Peter") in name and ("james", "James") in name
    assert ("dr", "Dr") in name and ("dr peter chalmers", "Dr Peter Chälmers") in name
    assert rows(index, "strings", "family") == [("chalmers", "Chälmers")]
    assert ("534 erewhon st", "534 Erewhon St") in rows(index, "strings", "address")
    assert rows(index, "strings", "address-city") == [("pleasantville", "PleasantVille")]
    assert rows(index, "tokens", "identifier") == [("urn:oid:1.2", "MRN-1", "medical record")]
    assert rows(index, "tokens", "gender") == [(None, "male", None)]
    assert rows(index, "tokens", "phone") == [(None, "+86 10 1234", None)]
    assert rows(index, "tokens", "email") == [(None, "p@x.cn", None)]
    assert rows(index, "tokens", "deceased") == [(None, "false", None)]
    assert rows(index, "dates", "birthdate") == [
        (us("1974-12-01T00:00:00+00:00"), us("1975-01-01T00:00:00+00:00") - 1)
    ]
    assert rows(index, "references", "general-practitioner") == [
        ("Practitioner", "gp", "http://other.org/fhir/Practitioner/gp")
    ]
    assert rows(index, "references", "organization") == []  # identifier only
    assert rows(index, "tokens", "_tag") == [("http://t", "demo", "demo")]
    assert rows(index, "tokens", "_security") == [("http://s", "R", None)]
    assert rows(index, "uris", "_profile") == [("http://hl7.org/fhir/StructureDefinition/Patient",)]
    assert rows(index, "uris", "_source") == [("http://zhiyi/source",)]
    assert not rows(index, "tokens", "_id") and not rows(index, "dates", "_lastUpdated")


def test_patient_deceased():
    assert rows(index_resource({**PATIENT, "deceasedBoolean": True}), "tokens", "deceased") == [
        (None, "true", None)
    ]
    assert rows(index_resource({**PATIENT, "deceasedBoolean": False}), "tokens", "deceased") == [
        (None, "false", None)
    ]
    dead = index_resource({**PATIENT, "deceasedDateTime": "2020-03-04"})
    assert rows(dead, "tokens", "deceased") == [(None, "true", None)]
    assert rows(dead, "dates", "death-date") == [date_bounds("2020-03-04")]


OBSERVATION = {
    "resourceType": "Observation",
    "id": "o1",
    "status": "final",
    "code": {
        "coding": [
            {"system": "http://loinc.org", "code": "8867-4", "display": "Heart rate"},
            {"system": "http://snomed.info/sct", "code": "364075005"},
        ],
        "text": "Heart Rate",
    },
    "category": [{"coding": [{"system": "http://c", "code": "vital-signs", "display": "Vital Signs"}]}],
    "subject": {"reference": "Patient/123"},
    "effectivePeriod": {"start": "2013-04-02T09:30:10+01:00", "end": "2013-04-05"},
    "valueQuantity": {
        "value": 72.5,
        "unit": "beats/minute",
        "system": "http://unitsofmeasure.org",
        "code": "/min",
    },
}


def test_observation_rows():
    index = index_resource(OBSERVATION)
    assert rows(index, "tokens", "code") == [
        ("http://loinc.org", "8867-4", "heart rate"),
        ("http://snomed.info/sct", "364075005", "heart rate"),
    ]
    assert rows(index, "tokens", "category") == [("http://c", "vital-signs", "vital signs")]
    assert rows(index, "tokens", "status") == [(None, "final", None)]
    assert rows(index, "dates", "date") == [
        (us("2013-04-02T08:30:10+00:00"), us("2013-04-05T23:59:59.999999+00:00"))
    ]
    assert rows(index, "quantities", "value-quantity") == [
        (Decimal("72.5"), "http://unitsofmeasure.org", "/min", "beats/minute")
    ]
    assert rows(index, "references", "subject") == [("Patient", "123", None)]
    assert rows(index, "references", "patient") == [("Patient", "123", None)]
    assert not [row for row in index.tokens if row[0].startswith("code-value")]  # composites: later


@pytest.mark.parametrize(
    ("subject", "expected", "is_patient"),
    [
        ({"reference": "Patient/123/_history/2"}, ("Patient", "123", None), True),
        ({"reference": ABSOLUTE}, ("Patient", "123", ABSOLUTE), True),
        ({"reference": UUID}, (None, None, UUID), False),
        ({"reference": UUID, "type": "Patient"}, (None, None, UUID), True),
        ({"reference": "Group/g1"}, ("Group", "g1", None), False),
        ({"reference": "#contained"}, None, False),
        ({"identifier": {"system": "urn:x", "value": "1"}, "type": "Patient"}, None, False),
    ],
)  # fmt: skip
def test_subject_reference_forms(subject, expected, is_patient):
    index = index_resource({**OBSERVATION, "subject": subject})
    assert rows(index, "references", "subject") == ([expected] if expected else [])
    assert rows(index, "references", "patient") == ([expected] if is_patient else [])


def test_canonical_references_drop_the_version():
    response = {"resourceType": "QuestionnaireResponse", "questionnaire": "http://x/Questionnaire/q|1.0"}
    assert rows(index_resource(response), "references", "questionnaire") == [
        (None, None, "http://x/Questionnaire/q")
    ]


def test_ranges_timings_and_unparseable_values():
    condition = {
        "resourceType": "Condition",
        "onsetRange": {"low": {"value": 2, "unit": "a"}, "high": {"value": 5}},
    }
    assert rows(index_resource(condition), "quantities", "onset-age") == [
        (Decimal(2), None, None, "a"),
        (Decimal(5), None, None, None),
    ]
    plan = {
        "resourceType": "CarePlan",
        "activity": [{"detail": {"scheduledTiming": {"event": ["2020-05-01", "2020-03-01T10:00:00Z"]}}}],
    }
    assert rows(index_resource(plan), "dates", "activity-date") == [
        (us("2020-03-01T10:00:00+00:00"), us("2020-05-01T23:59:59.999999+00:00"))
    ]
    broken = {**OBSERVATION, "effectivePeriod": {"start": "2013-13"}, "valueQuantity": {"value": "many"}}
    index = index_resource(broken)
    assert rows(index, "dates", "date") == [] and rows(index, "quantities", "value-quantity") == []


def test_undeclared_types_are_refused():
    with pytest.raises(ValueError, match="Basic"):
        index_resource({"resourceType": "Basic"})
