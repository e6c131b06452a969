"""Write Zhiyi's table of FHIR R4 search parameters from the spec's SearchParameter Bundle:
`python scripts/fhir_search_parameters.py [search-parameters.json]` (default: the copy kept beside
the project in ../shared/data/fhir-r4-spec/). Output: src/zhiyi/fhir/data/search_parameters.json,
one row per parameter whose base includes a resource type Zhiyi serves (or Resource), with the
spec's code, type, FHIRPath expression and targets unchanged; `base` keeps only the served types."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = ROOT / ".." / "shared" / "data" / "fhir-r4-spec" / "search-parameters.json"
OUTPUT = ROOT / "src" / "zhiyi" / "fhir" / "data" / "search_parameters.json"

# The resource types the repository serves; the last eight appear in Synthea bundles.
DECLARED_TYPES = (
    "Patient Practitioner PractitionerRole Organization Location HealthcareService Schedule Slot "
    "Appointment Encounter Condition Observation DiagnosticReport ServiceRequest MedicationRequest "
    "MedicationDispense AllergyIntolerance Immunization Procedure DocumentReference Consent "
    "Questionnaire QuestionnaireResponse Coverage Provenance AuditEvent Group RelatedPerson "
    "ClinicalImpression Medication Device Specimen CarePlan CareTeam Goal ImagingStudy Claim "
    "ExplanationOfBenefit"
).split()
ABSTRACT_BASES = ("Resource", "DomainResource")
SEARCH_TYPES = frozenset({"string", "token", "date", "reference", "quantity", "uri", "number"})
COMPOSITE_TYPES = frozenset({"Observation"})  # composites are kept only for these bases


def definitions(bundle: dict) -> list[dict]:
    return [entry["resource"] for entry in bundle.get("entry", []) if "resource" in entry]


def row_of(definition: dict, codes_by_url: dict[str, str]) -> dict | None:
    """Zhiyi's row for one SearchParameter, or None when Zhiyi does not declare it."""
    kind = definition["type"]
    expression = definition.get("expression")
    if not expression:  # _text, _content, _query: no FHIRPath to index by
        return None
    base = [t for t in definition["base"] if t in DECLARED_TYPES or t in ABSTRACT_BASES]
    if kind == "composite":
        base = [t for t in base if t in COMPOSITE_TYPES]
    elif kind not in SEARCH_TYPES:
        return None
    if not base:
        return None
    row = {
        "code": definition["code"],
        "base": base,
        "type": kind,
        "expression": expression,
        "target": list(definition.get("target", [])),
    }
    if kind == "composite":
        row["component"] = [
            {
                "definition": codes_by_url.get(part["definition"], part["definition"]),
                "expression": part["expression"],
            }
            for part in definition.get("component", [])
        ]
    return row


def build(bundle: dict) -> list[dict]:
    found = definitions(bundle)
    codes_by_url = {d["url"]: d["code"] for d in found if "url" in d}
    rows = [row for d in found if (row := row_of(d, codes_by_url)) is not None]
    rows.sort(key=lambda row: (row["code"], row["base"]))
    return rows


def render(rows: list[dict]) -> str:
    return json.dumps(rows, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> None:
    source = Path(argv[0]) if argv else DEFAULT_SOURCE
    rows = build(json.loads(source.read_text(encoding="utf-8")))
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(render(rows), encoding="utf-8")
    print(f"{len(rows)} search parameters -> {OUTPUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main(sys.argv[1:])
