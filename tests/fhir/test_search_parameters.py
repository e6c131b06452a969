"""Zhiyi's table of search parameters says what the R4 spec says, for every type Zhiyi declares."""

from __future__ import annotations

import json

import pytest

from tests.conftest import shared_data
from zhiyi.fhir import params
from zhiyi.fhir.paths import split_union

DECLARED = frozenset(
    "Patient Practitioner PractitionerRole Organization Location HealthcareService Schedule Slot "
    "Appointment Encounter Condition Observation DiagnosticReport ServiceRequest MedicationRequest "
    "MedicationDispense AllergyIntolerance Immunization Procedure DocumentReference Consent "
    "Questionnaire QuestionnaireResponse Coverage Provenance AuditEvent Group RelatedPerson "
    "ClinicalImpression Medication Device Specimen CarePlan CareTeam Goal ImagingStudy Claim "
    "ExplanationOfBenefit".split()
)
ABSTRACT = frozenset({"Resource", "DomainResource"})
SIMPLE_TYPES = frozenset({"string", "token", "date", "reference", "quantity", "uri", "number"})


@pytest.fixture(scope="module")
def spec() -> list[dict]:
    bundle = json.loads(shared_data("fhir-r4-spec", "search-parameters.json").read_text(encoding="utf-8"))
    return [entry["resource"] for entry in bundle["entry"]]


@pytest.fixture(scope="module")
def table() -> list[dict]:
    return json.loads(params.TABLE.read_text(encoding="utf-8"))


def kept_base(definition: dict) -> list[str]:
    base = [b for b in definition["base"] if b in DECLARED or b in ABSTRACT]
    return [b for b in base if b == "Observation"] if definition["type"] == "composite" else base


def declared_by_spec(definition: dict) -> bool:
    if not definition.get("expression") or not kept_base(definition):
        return False
    return definition["type"] in SIMPLE_TYPES or definition["type"] == "composite"


def test_every_row_is_the_spec_definition(spec, table):
    by_url = {d["url"]: d for d in spec}
    for row in table:
        matches = [d for d in spec if d["code"] == row["code"] and set(row["base"]) <= set(d["base"])]
        assert len(matches) == 1, f"{row['code']} {row['base']}: {len(matches)} spec definitions"
        definition = matches[0]
        assert row["base"] == kept_base(definition), row["code"]
        assert row["type"] == definition["type"], row["code"]
        assert row["expression"] == definition["expression"], row["code"]
        assert row["target"] == definition.get("target", []), row["code"]
        if definition["type"] == "composite":
            spec_parts = [(by_url[c["definition"]]["code"], c["expression"]) for c in definition["component"]]
            assert [(c["definition"], c["expression"]) for c in row["component"]] == spec_parts
        else:
            assert "component" not in row, row["code"]
        assert set(row) <= {"code", "base", "type", "expression", "target", "component"}


def test_every_declared_spec_parameter_is_in_the_table(spec, table):
    expected = {(d["code"], tuple(kept_base(d))) for d in spec if declared_by_spec(d)}
    found = {(row["code"], tuple(row["base"])) for row in table}
    assert found == expected
    assert len(table) == len(found)  # no row twice


def test_table_is_sorted_and_pretty_printed(table):
    assert table == sorted(table, key=lambda row: (row["code"], row["base"]))
    text = params.TABLE.read_text(encoding="utf-8")
    assert text == json.dumps(table, indent=2, ensure_ascii=False) + "\n"


def test_declared_types():
    assert params.declared_types() == DECLARED


@pytest.mark.parametrize("resource_type", sorted(DECLARED))
def test_each_type_has_its_spec_parameters(spec, resource_type):
    view = params.for_type(resource_type)
    for code in ("_id", "_lastUpdated", "_tag", "_profile", "_security", "_source"):
        assert code in view, code
    assert view["_tag"].expression == f"{resource_type}.meta.tag"
    for definition in spec:
        if not declared_by_spec(definition) or definition["type"] == "composite":
            continue
        if resource_type not in definition["base"] and not ABSTRACT & set(definition["base"]):
            continue
        param = view[definition["code"]]
        assert param.type == definition["type"]
        assert param.target == tuple(definition.get("target", ()))
        branches = split_union(definition["expression"])
        for branch in split_union(param.expression):
            assert branch in branches or branch.replace(resource_type, "Resource", 1) in branches, branch
    for code in ("_text", "_content", "_query", "_filter"):
        assert code not in view


def test_per_type_view_keeps_that_types_branches():
    assert params.find("AllergyIntolerance", "patient").expression == "AllergyIntolerance.patient"
    assert (
        params.find("Observation", "patient").expression == "Observation.subject.where(resolve() is Patient)"
    )
    assert params.find("Patient", "_lastUpdated").expression == "Patient.meta.lastUpdated"
    value = params.find("Observation", "value-quantity")
    assert value.type == "quantity"
    assert value.expression == "(Observation.value as Quantity) | (Observation.value as SampledData)"
    combo = params.find("Observation", "code-value-quantity")
    assert combo.type == "composite"
    assert combo.components == (("code", "code"), ("value-quantity", "value.as(Quantity)"))
    assert params.find("Observation", "no-such-param") is None
    assert params.find("Basic", "code") is None
    assert params.find("Group", "characteristic-value") is None  # composite kept only for Observation
