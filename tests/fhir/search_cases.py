"""An independent oracle for the FHIR R4 (4.0.1) search engine: a small world and search cases.

Every expected answer here was worked out by hand from the R4 specification (search.html and the
SearchParameter definitions in Bundle-searchParams.json), not from any implementation.

Runner contract: PUT every FIXTURE resource in list order (ids as given), then for each case
GET /fhir/{query} (with `headers`), and compare
  * the set (the sequence when `ordered`) of "Type/id" of entries with search.mode "match" to `expected`,
  * the set of "Type/id" of entries with search.mode "include" to `included`,
  * Bundle.total to `total` when it is not None,
  * the HTTP status to `status` (for 4xx cases nothing else is compared).

Design notes (so that every answer is determined by the spec alone):
  * Every time with a clock part lies between 11:00Z and 13:00Z, so that no answer depends on the
    time zone the server assumes for search values and targets without an offset.
  * Number and quantity values are never within half a unit of the precision of a threshold searched
    with gt/lt/ge/le (the spec's readings of "the range above/below the search value" agree there).
  * No `ne` or `:not` is asked of a parameter that some candidate lacks (except where the spec says so
    explicitly: `:not` includes resources without a value), and no `:not` is asked of a multi-valued
    element.
  * Every `_sort` key is single-valued and untied on the resources sorted, and no string sort depends
    on a collation (case, accents or CJK order).
  * Patient/p9 does not exist on this server: Observation/obs-ext refers to it on another server by
    absolute URL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class Case:
    query: str  # "Patient?name=smi" as a client writes it after the base URL
    expected: tuple[str, ...]  # "Type/id" of the match-mode results; () for none
    included: tuple[str, ...] = ()  # "Type/id" of include-mode results (_include/_revinclude), as a set
    ordered: bool = False  # True when the order of `expected` is asserted (_sort cases)
    total: int | None = None  # the expected Bundle.total, when asserted
    status: int = 200  # 400 for input the server must refuse
    headers: tuple[tuple[str, str], ...] = ()  # e.g. (("Prefer", "handling=strict"),)
    why: str = ""  # one line: the rule of the spec this case checks


# ---------------------------------------------------------------------------------------------
# Code systems and other URIs
# ---------------------------------------------------------------------------------------------
LOINC = "http://loinc.org"
SCT = "http://snomed.info/sct"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
UCUM = "http://unitsofmeasure.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
MRN = "http://hospital.example/mrn"
OID = "urn:oid:2.16.840.1.113883.2.4.6.3"
NPI = "http://hl7.org/fhir/sid/us-npi"
OBS_CAT = "http://terminology.hl7.org/CodeSystem/observation-category"
COND_CLIN = "http://terminology.hl7.org/CodeSystem/condition-clinical"
COND_VER = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
ACT = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
TAGS = "http://zhiyi.example/tags"
LOCAL_CODES = "http://zhiyi.example/codes"
SD = "http://hl7.org/fhir/StructureDefinition/"

_VITAL = [{"coding": [{"system": OBS_CAT, "code": "vital-signs", "display": "Vital Signs"}]}]
_SOCIAL = [{"coding": [{"system": OBS_CAT, "code": "social-history", "display": "Social History"}]}]
_EXAM = [{"coding": [{"system": OBS_CAT, "code": "exam", "display": "Exam"}]}]
_HR_CODE = {"coding": [{"system": LOINC, "code": "8867-4", "display": "Heart rate"}], "text": "Heart rate"}
_WT_CODE = {"coding": [{"system": LOINC, "code": "29463-7", "display": "Body weight"}], "text": "Body weight"}
_BP_CODE = {
    "coding": [
        {"system": LOINC, "code": "85354-9", "display": "Blood pressure panel with all children optional"}
    ]
}


def _q(value: float, unit: str, code: str) -> dict:
    return {"value": value, "unit": unit, "system": UCUM, "code": code}


def _bp(systolic: int, diastolic: int) -> list[dict]:
    return [
        {
            "code": {"coding": [{"system": LOINC, "code": "8480-6", "display": "Systolic blood pressure"}]},
            "valueQuantity": _q(systolic, "mmHg", "mm[Hg]"),
        },
        {
            "code": {"coding": [{"system": LOINC, "code": "8462-4", "display": "Diastolic blood pressure"}]},
            "valueQuantity": _q(diastolic, "mmHg", "mm[Hg]"),
        },
    ]


def _clin(code: str) -> dict:
    return {"coding": [{"system": COND_CLIN, "code": code}]}


_CONFIRMED = {"coding": [{"system": COND_VER, "code": "confirmed"}]}

# ---------------------------------------------------------------------------------------------
# The world
# ---------------------------------------------------------------------------------------------
FIXTURE: list[dict] = [
    # --- Organizations: org-clinic -partOf-> org-hosp -partOf-> org-root; org-other stands alone
    {"resourceType": "Organization", "id": "org-root", "active": True, "name": "Zhiyi Health Group"},
    {
        "resourceType": "Organization",
        "id": "org-hosp",
        "active": True,
        "name": "Zhiyi General Hospital",
        "alias": ["智医总院"],
        "partOf": {"reference": "Organization/org-root"},
    },
    {
        "resourceType": "Organization",
        "id": "org-clinic",
        "active": True,
        "name": "Riverside Clinic",
        "partOf": {"reference": "Organization/org-hosp"},
    },
    {"resourceType": "Organization", "id": "org-other", "active": True, "name": "Lakeside Medical Center"},
    # --- Practitioners
    {
        "resourceType": "Practitioner",
        "id": "pr1",
        "identifier": [{"system": NPI, "value": "1111111111"}],
        "name": [{"family": "House", "given": ["Gregory"], "prefix": ["Dr."]}],
        "gender": "male",
    },
    {
        "resourceType": "Practitioner",
        "id": "pr2",
        "identifier": [{"system": NPI, "value": "2222222222"}],
        "name": [{"family": "Cuddy", "given": ["Lisa"]}],
        "gender": "female",
    },
    {
        "resourceType": "Practitioner",
        "id": "pr3",
        "name": [{"family": "李", "given": ["娜"]}],
        "gender": "female",
    },
    # --- Patients (p9 deliberately absent: it lives on another server)
    {
        "resourceType": "Patient",
        "id": "p1",
        "meta": {"tag": [{"system": TAGS, "code": "vip"}]},
        "identifier": [{"system": MRN, "value": "MRN-1001"}, {"system": OID, "value": "738472983"}],
        "active": True,
        "name": [
            {"use": "official", "family": "Chalmers", "given": ["Peter", "James"], "prefix": ["Mr."]},
            {"use": "usual", "given": ["Jim"]},
        ],
        "telecom": [
            {"system": "phone", "value": "0355556473", "use": "work"},
            {"system": "email", "value": "peter.chalmers@example.org"},
        ],
        "gender": "male",
        "birthDate": "1974-12-25",
        "address": [
            {
                "use": "home",
                "line": ["534 Erewhon St"],
                "city": "PleasantVille",
                "state": "Vic",
                "postalCode": "3999",
                "country": "AU",
            }
        ],
        "generalPractitioner": [{"reference": "Practitioner/pr1"}],
        "managingOrganization": {"reference": "Organization/org-hosp"},
    },
    {
        "resourceType": "Patient",
        "id": "p2",
        "identifier": [{"system": MRN, "value": "MRN-1002"}],
        "active": True,
        "name": [{"family": "Chälmers", "given": ["Anna"]}],
        "gender": "female",
        "birthDate": "1980",
        "address": [{"city": "Spring Valley", "state": "NY"}],
        "generalPractitioner": [{"reference": "Practitioner/pr1"}],
        "managingOrganization": {"reference": "Organization/org-clinic"},
    },
    {
        "resourceType": "Patient",
        "id": "p3",
        "identifier": [{"system": OID, "value": "12345"}],
        "active": True,
        "name": [{"family": "chalmers", "given": ["Eve"]}],
        "gender": "female",
        "birthDate": "1980-05",
        "address": [{"city": "Boston", "state": "MA"}],
        "managingOrganization": {"reference": "Organization/org-other"},
    },
    {
        "resourceType": "Patient",
        "id": "p4",
        "meta": {"tag": [{"system": TAGS, "code": "vip"}]},
        "identifier": [{"system": MRN, "value": "12345"}],
        "active": False,
        "name": [{"family": "张", "given": ["伟"]}],
        "telecom": [{"system": "phone", "value": "13800000001", "use": "mobile"}],
        "gender": "male",
        "birthDate": "1985-07-15",
        "address": [{"city": "上海市", "state": "上海"}],
        "generalPractitioner": [{"reference": "Practitioner/pr3"}],
        "managingOrganization": {"reference": "Organization/org-hosp"},
    },
    {
        "resourceType": "Patient",
        "id": "p5",
        "identifier": [{"value": "12345"}],
        "name": [{"family": "张", "given": ["三丰"]}],
        "gender": "male",
        "birthDate": "1950-03-03",
        "address": [{"city": "北京市", "state": "北京"}],
    },
    {
        "resourceType": "Patient",
        "id": "p6",
        "identifier": [{"system": MRN, "value": "MRN-1006"}],
        "active": True,
        "name": [{"family": "Müller", "given": ["Jürgen"]}],
        "telecom": [
            {"system": "email", "value": "juergen.mueller@example.org"},
            {"system": "phone", "value": "0612345678"},
        ],
        "gender": "male",
        "birthDate": "1990-01-01",
        "address": [{"city": "Springfield", "state": "IL"}],
        "generalPractitioner": [{"reference": "Organization/org-other"}],
    },
    {
        "resourceType": "Patient",
        "id": "p7",
        "identifier": [{"system": MRN, "value": "MRN-1007"}],
        "active": False,
        "name": [{"family": "Smith", "given": ["John"]}],
        "gender": "male",
        "birthDate": "2001-09-11",
    },
    {
        "resourceType": "Patient",
        "id": "p8",
        "identifier": [{"system": MRN, "value": "MRN-1008"}],
        "active": True,
        "name": [{"family": "Smith", "given": ["Sarah"]}],
        "gender": "female",
        "birthDate": "2001-09",
        "address": [{"city": "Springfield", "state": "MA"}],
    },
    {
        "resourceType": "Patient",
        "id": "p10",
        "identifier": [{"system": MRN, "value": "MRN-1010"}],
        "name": [{"family": "Goldsmith", "given": ["Ann"], "prefix": ["Ms."]}],
        "birthDate": "2010-06-30",
    },
    # --- Encounters
    {
        "resourceType": "Encounter",
        "id": "enc1",
        "status": "finished",
        "class": {"system": ACT, "code": "IMP", "display": "inpatient encounter"},
        "subject": {"reference": "Patient/p1"},
        "participant": [{"individual": {"reference": "Practitioner/pr1"}}],
        "period": {"start": "2021-03-14T11:00:00Z", "end": "2021-03-16T12:00:00Z"},
        "serviceProvider": {"reference": "Organization/org-hosp"},
    },
    {
        "resourceType": "Encounter",
        "id": "enc2",
        "status": "finished",
        "class": {"system": ACT, "code": "AMB", "display": "ambulatory"},
        "subject": {"reference": "Patient/p3"},
        "participant": [{"individual": {"reference": "Practitioner/pr2"}}],
        "period": {"start": "2021-01-10", "end": "2021-01-12"},
        "serviceProvider": {"reference": "Organization/org-clinic"},
    },
    {
        "resourceType": "Encounter",
        "id": "enc3",
        "status": "in-progress",
        "class": {"system": ACT, "code": "IMP", "display": "inpatient encounter"},
        "subject": {"reference": "Patient/p4"},
        "participant": [{"individual": {"reference": "Practitioner/pr3"}}],
        "period": {"start": "2022-05-01T12:00:00Z"},
        "serviceProvider": {"reference": "Organization/org-other"},
    },
    {
        "resourceType": "Encounter",
        "id": "enc4",
        "status": "planned",
        "class": {"system": ACT, "code": "AMB", "display": "ambulatory"},
        "subject": {"reference": "Patient/p2"},
        "participant": [
            {"individual": {"reference": "Practitioner/pr1"}},
            {"individual": {"reference": "Practitioner/pr2"}},
        ],
        "period": {"start": "2023-02-01T12:00:00Z", "end": "2023-02-01T12:30:00Z"},
        "serviceProvider": {"reference": "Organization/org-clinic"},
    },
    {
        "resourceType": "Encounter",
        "id": "enc5",
        "status": "finished",
        "class": {"system": ACT, "code": "EMER", "display": "emergency"},
        "subject": {"reference": "Patient/p6"},
        "period": {"start": "2020-12-31T11:00:00Z", "end": "2020-12-31T13:00:00Z"},
        "serviceProvider": {"reference": "Organization/org-hosp"},
    },
    # --- Observations
    {
        "resourceType": "Observation",
        "id": "obs-hr1",
        "meta": {"profile": [SD + "vitalsigns", SD + "heartrate"]},
        "status": "final",
        "category": _VITAL,
        "code": _HR_CODE,
        "subject": {"reference": "Patient/p1"},
        "encounter": {"reference": "Encounter/enc1"},
        "effectiveDateTime": "2021-03-15T20:00:00+08:00",  # = 12:00Z
        "valueQuantity": _q(72, "beats/minute", "/min"),
    },
    {
        "resourceType": "Observation",
        "id": "obs-hr2",
        "meta": {"profile": [SD + "vitalsigns", SD + "heartrate"]},
        "status": "final",
        "category": _VITAL,
        "code": _HR_CODE,
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2021-03-15T13:00:00Z",
        "valueQuantity": _q(88, "beats/minute", "/min"),
    },
    {
        "resourceType": "Observation",
        "id": "obs-wt1",
        "meta": {"profile": [SD + "vitalsigns", SD + "bodyweight"]},
        "status": "final",
        "category": _VITAL,
        "code": _WT_CODE,
        "subject": {"reference": "Patient/p1"},
        "encounter": {"reference": "Encounter/enc1"},
        "effectiveDateTime": "2021-03-14T11:30:00Z",
        "valueQuantity": _q(69.8, "kg", "kg"),
    },
    {
        "resourceType": "Observation",
        "id": "obs-bp1",
        "status": "final",
        "category": _VITAL,
        "code": _BP_CODE,
        "subject": {"reference": "Patient/p1"},
        "effectiveDateTime": "2021-03-16T11:00:00Z",
        "component": _bp(142, 91),
    },
    {
        "resourceType": "Observation",
        "id": "obs-hr3",
        "status": "amended",
        "category": _VITAL,
        "code": _HR_CODE,
        "subject": {"reference": "Patient/p2"},
        "effectiveDateTime": "2020-11-02",
        "valueQuantity": _q(64, "beats/minute", "/min"),
    },
    {
        "resourceType": "Observation",
        "id": "obs-smoke",
        "status": "final",
        "category": _SOCIAL,
        "code": {"coding": [{"system": LOINC, "code": "72166-2", "display": "Tobacco smoking status"}]},
        "subject": {"reference": "Patient/p2"},
        "effectiveDateTime": "2019-05-20",
        "valueCodeableConcept": {
            "coding": [{"system": SCT, "code": "266919005", "display": "Never smoked tobacco"}]
        },
    },
    {
        "resourceType": "Observation",
        "id": "obs-wt2",
        "status": "final",
        "category": _VITAL,
        "code": _WT_CODE,
        "subject": {"reference": "Patient/p3"},
        "encounter": {"reference": "Encounter/enc2"},
        "effectivePeriod": {"start": "2021-01-10T11:00:00Z", "end": "2021-01-12T12:00:00Z"},
        "valueQuantity": _q(82, "kg", "kg"),
    },
    {
        "resourceType": "Observation",
        "id": "obs-wt3",
        "status": "preliminary",
        "category": _VITAL,
        "code": _WT_CODE,
        "subject": {"reference": "Patient/p4"},
        "effectiveDateTime": "2021-02",
        "valueQuantity": _q(65, "kg", "kg"),
    },
    {
        "resourceType": "Observation",
        "id": "obs-bp2",
        "status": "final",
        "category": _VITAL,
        "code": _BP_CODE,
        "subject": {"reference": "Patient/p4"},
        "effectivePeriod": {"start": "2021-06-01T12:00:00Z"},  # open-ended: no end
        "component": _bp(118, 76),
    },
    {
        "resourceType": "Observation",
        "id": "obs-local",
        "meta": {"tag": [{"system": TAGS, "code": "tcm"}]},
        "status": "final",
        "category": _EXAM,
        "code": {"coding": [{"system": LOCAL_CODES, "code": "TCM-PULSE", "display": "脉象"}], "text": "脉象"},
        "subject": {"reference": "Patient/p4"},
        "effectiveDateTime": "2021-04-01T20:00:00+08:00",  # = 12:00Z
        "valueString": "弦脉",
    },
    {
        "resourceType": "Observation",
        "id": "obs-bw",
        "status": "final",
        "category": _VITAL,
        "code": {"coding": [{"system": LOINC, "code": "8339-4", "display": "Birth weight Measured"}]},
        "subject": {"reference": "Patient/p10"},
        "effectiveDateTime": "2010-06-30T12:15:00Z",
        "valueQuantity": _q(3400, "g", "g"),
    },
    {
        "resourceType": "Observation",
        "id": "obs-ext",
        "status": "final",
        "category": _VITAL,
        "code": _HR_CODE,
        "subject": {"reference": "http://example.org/fhir/Patient/p9"},
        "effectiveDateTime": "2022-01-05T12:00:00Z",
        "valueQuantity": _q(101, "beats/minute", "/min"),
    },
    {
        "resourceType": "Observation",
        "id": "obs-hr4",
        "status": "cancelled",
        "category": _VITAL,
        "code": _HR_CODE,
        "subject": {"reference": "Patient/p6"},
        "effectiveInstant": "2022-07-01T11:00:00.000Z",
        "valueQuantity": _q(76, "beats/minute", "/min"),
    },
    {
        "resourceType": "Observation",
        "id": "obs-nosys",
        "status": "final",
        "category": _VITAL,
        "code": {"coding": [{"code": "8867-4"}]},  # a code without a system, and no display or text
        "subject": {"reference": "Patient/p7"},
        "effectiveDateTime": "2023-01-01T12:00:00Z",
        "valueQuantity": _q(95, "beats/minute", "/min"),
    },
    # --- Conditions
    {
        "resourceType": "Condition",
        "id": "cond1",
        "clinicalStatus": _clin("active"),
        "verificationStatus": _CONFIRMED,
        "code": {
            "coding": [
                {"system": ICD10, "code": "I10", "display": "Essential (primary) hypertension"},
                {"system": SCT, "code": "38341003", "display": "Hypertensive disorder, systemic arterial"},
            ],
            "text": "Hypertension",
        },
        "subject": {"reference": "Patient/p1"},
        "onsetDateTime": "2015-06-01",
    },
    {
        "resourceType": "Condition",
        "id": "cond2",
        "clinicalStatus": _clin("active"),
        "verificationStatus": _CONFIRMED,
        "code": {
            "coding": [
                {
                    "system": ICD10,
                    "code": "E11.9",
                    "display": "Type 2 diabetes mellitus without complications",
                },
                {"system": SCT, "code": "44054006", "display": "Diabetes mellitus type 2"},
            ]
        },
        "subject": {"reference": "Patient/p4"},
        "onsetDateTime": "2018-03",
    },
    {
        "resourceType": "Condition",
        "id": "cond3",
        "clinicalStatus": _clin("resolved"),
        "verificationStatus": _CONFIRMED,
        "code": {"coding": [{"system": SCT, "code": "195662009", "display": "Acute viral pharyngitis"}]},
        "subject": {"reference": "Patient/p2"},
        "onsetPeriod": {"start": "2020-11-01", "end": "2020-11-10"},
    },
    {
        "resourceType": "Condition",
        "id": "cond4",
        "clinicalStatus": _clin("inactive"),
        "verificationStatus": _CONFIRMED,
        "code": {"coding": [{"system": ICD10, "code": "I10"}]},  # no display, no text
        "subject": {"reference": "Patient/p3"},
        "onsetDateTime": "2019-02-14T12:00:00Z",
    },
    {
        "resourceType": "Condition",
        "id": "cond5",
        "clinicalStatus": _clin("active"),
        "code": {
            "coding": [
                {"system": SCT, "code": "38341003", "display": "Hypertensive disorder, systemic arterial"}
            ]
        },
        "subject": {"reference": "Patient/p7"},
    },
    # --- MedicationRequests
    {
        "resourceType": "MedicationRequest",
        "id": "mr1",
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM, "code": "197361", "display": "Amlodipine 5 MG Oral Tablet"}]
        },
        "subject": {"reference": "Patient/p1"},
        "encounter": {"reference": "Encounter/enc1"},
        "authoredOn": "2021-03-16T12:00:00Z",
        "requester": {"reference": "Practitioner/pr1"},
    },
    {
        "resourceType": "MedicationRequest",
        "id": "mr2",
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": {
            "coding": [
                {"system": RXNORM, "code": "860975", "display": "Metformin 500 MG Extended Release Tablet"}
            ]
        },
        "subject": {"reference": "Patient/p4"},
        "authoredOn": "2018-03-20",
        "requester": {"reference": "Practitioner/pr3"},
    },
    {
        "resourceType": "MedicationRequest",
        "id": "mr3",
        "status": "completed",
        "intent": "order",
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM, "code": "313782", "display": "Acetaminophen 325 MG Oral Tablet"}]
        },
        "subject": {"reference": "Patient/p2"},
        "authoredOn": "2020-11-02",
        "requester": {"reference": "Practitioner/pr2"},
    },
    {
        "resourceType": "MedicationRequest",
        "id": "mr4",
        "status": "stopped",
        "intent": "plan",
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM, "code": "313782", "display": "Acetaminophen 325 MG Oral Tablet"}]
        },
        "subject": {"reference": "Patient/p1"},
        "authoredOn": "2019-12-01",
        "requester": {"reference": "Organization/org-hosp"},
    },
    # --- Appointments
    {
        "resourceType": "Appointment",
        "id": "appt1",
        "status": "booked",
        "start": "2024-05-20T12:00:00Z",
        "end": "2024-05-20T12:30:00Z",
        "participant": [
            {"actor": {"reference": "Patient/p1"}, "status": "accepted"},
            {"actor": {"reference": "Practitioner/pr1"}, "status": "accepted"},
        ],
    },
    {
        "resourceType": "Appointment",
        "id": "appt2",
        "status": "proposed",
        "start": "2024-06-01T13:00:00Z",
        "end": "2024-06-01T13:20:00Z",
        "participant": [
            {"actor": {"reference": "Patient/p2"}, "status": "needs-action"},
            {"actor": {"reference": "Practitioner/pr2"}, "status": "accepted"},
        ],
    },
]

# No two resources share a nested object (the shorthands above are reused): a runner may mutate freely.
FIXTURE = json.loads(json.dumps(FIXTURE, ensure_ascii=False))

# ---------------------------------------------------------------------------------------------
# Shorthands for result sets
# ---------------------------------------------------------------------------------------------
ALL_PATIENTS = tuple(f"Patient/{i}" for i in ("p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p10"))
P1_OBS = ("Observation/obs-hr1", "Observation/obs-hr2", "Observation/obs-wt1", "Observation/obs-bp1")
HR_LOINC = (
    "Observation/obs-hr1",
    "Observation/obs-hr2",
    "Observation/obs-hr3",
    "Observation/obs-ext",
    "Observation/obs-hr4",
)
HR_ANY = HR_LOINC + ("Observation/obs-nosys",)
WEIGHTS = ("Observation/obs-wt1", "Observation/obs-wt2", "Observation/obs-wt3")
P4_OBS = ("Observation/obs-wt3", "Observation/obs-bp2", "Observation/obs-local")
ALL_OBS = (
    "Observation/obs-hr1",
    "Observation/obs-hr2",
    "Observation/obs-wt1",
    "Observation/obs-bp1",
    "Observation/obs-hr3",
    "Observation/obs-smoke",
    "Observation/obs-wt2",
    "Observation/obs-wt3",
    "Observation/obs-bp2",
    "Observation/obs-local",
    "Observation/obs-bw",
    "Observation/obs-ext",
    "Observation/obs-hr4",
    "Observation/obs-nosys",
)


def _without(pool: tuple[str, ...], *drop: str) -> tuple[str, ...]:
    return tuple(x for x in pool if x not in drop)


STRICT = (("Prefer", "handling=strict"),)

# ---------------------------------------------------------------------------------------------
# The cases
# ---------------------------------------------------------------------------------------------
CASES: list[Case] = [
    # =========================================================================================
    # string (search.html#string): default = starts-with, case- and accent-insensitive;
    # Patient.name covers family, given, prefix...; :exact whole value, case and accents kept;
    # :contains anywhere
    # =========================================================================================
    Case(
        "Patient?name=chalmers",
        ("Patient/p1", "Patient/p2", "Patient/p3"),
        why="string default ignores case and accents: Chalmers, Chälmers, chalmers",
    ),
    Case(
        "Patient?name=CHÄL",
        ("Patient/p1", "Patient/p2", "Patient/p3"),
        why="string default: starts-with, case/accent folded on both the value and the target",
    ),
    Case(
        "Patient?family=chal",
        ("Patient/p1", "Patient/p2", "Patient/p3"),
        why="family (Patient.name.family) matches a prefix of the family name",
    ),
    Case("Patient?name=peter", ("Patient/p1",), why="name matches a given name"),
    Case("Patient?name=james", ("Patient/p1",), why="name matches the second given name"),
    Case("Patient?name=jim", ("Patient/p1",), why="name matches a given name in a second HumanName"),
    Case(
        "Patient?name=j",
        ("Patient/p1", "Patient/p6", "Patient/p7"),
        why="one-letter prefix: James/Jim, Jürgen (accent folded), John",
    ),
    Case("Patient?name=mr", ("Patient/p1",), why="Patient name covers HumanName.prefix (Mr.)"),
    Case("Patient?name=ms", ("Patient/p10",), why="Patient name covers HumanName.prefix (Ms.)"),
    Case("Patient?name=xyz", (), why="string with no match returns an empty bundle"),
    Case(
        "Patient?family:exact=Chalmers",
        ("Patient/p1",),
        why=":exact is case- and accent-sensitive: not Chälmers, not chalmers",
    ),
    Case("Patient?family:exact=Chälmers", ("Patient/p2",), why=":exact keeps the accent"),
    Case("Patient?family:exact=chalmers", ("Patient/p3",), why=":exact keeps the case"),
    Case("Patient?family:exact=Chalm", (), why=":exact matches the whole value, not a prefix"),
    Case(
        "Patient?family=smith",
        ("Patient/p7", "Patient/p8"),
        why="starts-with: Smith matches, Goldsmith does not",
    ),
    Case(
        "Patient?family:contains=smith",
        ("Patient/p7", "Patient/p8", "Patient/p10"),
        why=":contains matches anywhere in the value (Goldsmith)",
    ),
    Case(
        "Patient?family:contains=mers",
        ("Patient/p1", "Patient/p2", "Patient/p3"),
        why=":contains matches the end of the value",
    ),
    Case("Patient?family:exact=Smith", ("Patient/p7", "Patient/p8"), why=":exact on the whole family"),
    Case("Patient?family:exact=Smi", (), why=":exact is not a prefix match"),
    Case("Patient?given=ann", ("Patient/p2", "Patient/p10"), why="given prefix: Anna and Ann"),
    Case("Patient?given:exact=Ann", ("Patient/p10",), why=":exact: Ann but not Anna"),
    Case("Patient?name=muller", ("Patient/p6",), why="accent-insensitive: muller finds Müller"),
    Case("Patient?family=MÜLLER", ("Patient/p6",), why="case-insensitive with an accent in the value"),
    Case("Patient?family:exact=Muller", (), why=":exact does not fold the accent of Müller"),
    Case("Patient?given=jurgen", ("Patient/p6",), why="accent-insensitive on given: Jürgen"),
    Case("Patient?family=张", ("Patient/p4", "Patient/p5"), why="Chinese family name"),
    Case(
        "Patient?family=%E5%BC%A0",
        ("Patient/p4", "Patient/p5"),
        why="a percent-encoded UTF-8 value is decoded before matching (张)",
    ),
    Case("Patient?given=伟", ("Patient/p4",), why="Chinese given name"),
    Case("Patient?given=三", ("Patient/p5",), why="starts-with on a Chinese given name (三丰)"),
    Case("Patient?name=三丰", ("Patient/p5",), why="name matches a whole Chinese given name"),
    Case("Patient?family:exact=张", ("Patient/p4", "Patient/p5"), why=":exact on a Chinese family name"),
    Case("Patient?given:exact=三", (), why=":exact: 三 is only a prefix of 三丰"),
    Case("Patient?name=peter,eve", ("Patient/p1", "Patient/p3"), why="comma separates values that are ORed"),
    Case(
        "Patient?name=chalmers,张",
        ("Patient/p1", "Patient/p2", "Patient/p3", "Patient/p4", "Patient/p5"),
        why="OR of a Latin and a Chinese value",
    ),
    Case("Patient?name=chalmers&name=eve", ("Patient/p3",), why="a repeated parameter is ANDed"),
    Case("Patient?family=chalmers&given=peter", ("Patient/p1",), why="two parameters are ANDed"),
    Case(
        "Patient?given=peter&given=james", ("Patient/p1",), why="AND over two values of a repeating element"
    ),
    Case("Patient?given=peter&given=eve", (), why="AND: no patient has both given names"),
    Case(
        "Patient?name=chalmers&gender=female",
        ("Patient/p2", "Patient/p3"),
        why="string AND token",
    ),
    Case("Patient?address-city=pleasant", ("Patient/p1",), why="address-city starts-with, case-insensitive"),
    Case(
        "Patient?address-city=spring",
        ("Patient/p2", "Patient/p6", "Patient/p8"),
        why="address-city prefix: Spring Valley and Springfield",
    ),
    Case(
        "Patient?address-city=springfield",
        ("Patient/p6", "Patient/p8"),
        why="a longer prefix excludes Spring Valley",
    ),
    Case("Patient?address-city=spring%20v", ("Patient/p2",), why="a value with an encoded space"),
    Case("Patient?address-city:exact=Springfield", ("Patient/p6", "Patient/p8"), why=":exact on city"),
    Case("Patient?address-city:exact=springfield", (), why=":exact on city is case-sensitive"),
    Case("Patient?address-city=上海", ("Patient/p4",), why="Chinese city: 上海 is a prefix of 上海市"),
    Case("Patient?address-city=北京", ("Patient/p5",), why="Chinese city: 北京市"),
    Case("Patient?address-state=il", ("Patient/p6",), why="address-state (Patient.address.state)"),
    Case("Patient?address=pleasantville", ("Patient/p1",), why="address covers Address.city"),
    Case("Practitioner?name=greg", ("Practitioner/pr1",), why="Practitioner name covers given"),
    Case("Practitioner?name=cud", ("Practitioner/pr2",), why="Practitioner name covers family"),
    Case("Practitioner?family=李", ("Practitioner/pr3",), why="Chinese family on Practitioner"),
    Case(
        "Organization?name=zhiyi",
        ("Organization/org-root", "Organization/org-hosp"),
        why="Organization name starts-with, case-insensitive",
    ),
    Case("Organization?name=智医", ("Organization/org-hosp",), why="Organization name covers alias"),
    Case(
        "Organization?name:contains=side",
        ("Organization/org-clinic", "Organization/org-other"),
        why=":contains: Riverside, Lakeside",
    ),
    Case(
        "Organization?name:exact=Riverside%20Clinic",
        ("Organization/org-clinic",),
        why=":exact with an encoded space",
    ),
    # =========================================================================================
    # token (search.html#token): code, system|code, |code, system|, :not, :text, identifier, boolean,
    # ContactPoint
    # =========================================================================================
    Case(
        "Observation?code=8867-4", HR_ANY, why="code alone matches in any system, and a code with no system"
    ),
    Case(
        "Observation?code=http://loinc.org|8867-4",
        HR_LOINC,
        why="system|code: system and code must both match",
    ),
    Case(
        "Observation?code=http://loinc.org%7C8867-4",
        HR_LOINC,
        why="| may be percent-encoded as %7C",
    ),
    Case("Observation?code=http://snomed.info/sct|8867-4", (), why="system|code with the wrong system"),
    Case(
        "Observation?code=|8867-4", ("Observation/obs-nosys",), why="|code matches only codes with no system"
    ),
    Case(
        "Observation?code=http://loinc.org|",
        _without(ALL_OBS, "Observation/obs-local", "Observation/obs-nosys"),
        why="system| matches any code in that system",
    ),
    Case(
        "Observation?code=8867-4,29463-7",
        HR_ANY + WEIGHTS,
        why="comma ORs token values",
    ),
    Case(
        "Observation?code:not=8867-4",
        _without(ALL_OBS, *HR_ANY),
        why=":not returns the resources that code=8867-4 does not",
    ),
    Case(
        "Observation?code:text=heart",
        HR_LOINC,
        why=":text matches Coding.display/CodeableConcept.text; obs-nosys has neither",
    ),
    Case("Observation?code:text=body", WEIGHTS, why=":text is case-insensitive on the start of the text"),
    Case(
        "Observation?code:text=blood",
        ("Observation/obs-bp1", "Observation/obs-bp2"),
        why=":text on Coding.display",
    ),
    Case("Observation?code:text=脉", ("Observation/obs-local",), why=":text on Chinese CodeableConcept.text"),
    Case("Observation?code:text=xyzzy", (), why=":text with no match"),
    Case(
        "Observation?code=http://zhiyi.example/codes|TCM-PULSE",
        ("Observation/obs-local",),
        why="system|code in a local code system",
    ),
    Case(
        "Observation?combo-code=8480-6",
        ("Observation/obs-bp1", "Observation/obs-bp2"),
        why="combo-code covers Observation.component.code",
    ),
    Case("Observation?combo-code=8867-4", HR_ANY, why="combo-code covers Observation.code"),
    Case(
        "Observation?component-code=http://loinc.org|8462-4",
        ("Observation/obs-bp1", "Observation/obs-bp2"),
        why="component-code",
    ),
    Case("Observation?code=8480-6", (), why="code does not cover component.code"),
    Case(
        "Observation?category=vital-signs",
        _without(ALL_OBS, "Observation/obs-smoke", "Observation/obs-local"),
        why="category token",
    ),
    Case(
        "Observation?category:not=vital-signs",
        ("Observation/obs-smoke", "Observation/obs-local"),
        why=":not on a single-valued category",
    ),
    Case(
        "Observation?category=http://terminology.hl7.org/CodeSystem/observation-category|social-history",
        ("Observation/obs-smoke",),
        why="system|code on category",
    ),
    Case(
        "Observation?status=final",
        _without(ALL_OBS, "Observation/obs-hr3", "Observation/obs-wt3", "Observation/obs-hr4"),
        why="code-typed element status",
    ),
    Case(
        "Observation?status:not=final",
        ("Observation/obs-hr3", "Observation/obs-wt3", "Observation/obs-hr4"),
        why=":not on status",
    ),
    Case(
        "Observation?status=preliminary,amended",
        ("Observation/obs-wt3", "Observation/obs-hr3"),
        why="OR over status codes",
    ),
    Case(
        "Observation?value-concept=http://snomed.info/sct|266919005",
        ("Observation/obs-smoke",),
        why="value-concept covers valueCodeableConcept",
    ),
    Case("Condition?code=I10", ("Condition/cond1", "Condition/cond4"), why="code in any of several codings"),
    Case(
        "Condition?code=http://hl7.org/fhir/sid/icd-10|I10",
        ("Condition/cond1", "Condition/cond4"),
        why="ICD-10 system|code",
    ),
    Case(
        "Condition?code=http://snomed.info/sct|38341003",
        ("Condition/cond1", "Condition/cond5"),
        why="SNOMED system|code, second coding of cond1",
    ),
    Case(
        "Condition?code=http://hl7.org/fhir/sid/icd-10|38341003",
        (),
        why="system and code must match in the same Coding",
    ),
    Case(
        "Condition?code=http://snomed.info/sct|",
        ("Condition/cond1", "Condition/cond2", "Condition/cond3", "Condition/cond5"),
        why="system| on Condition.code",
    ),
    Case(
        "Condition?code:text=hypert",
        ("Condition/cond1", "Condition/cond5"),
        why=":text on text (Hypertension) or display (Hypertensive...); cond4 has neither",
    ),
    Case(
        "Condition?clinical-status=active",
        ("Condition/cond1", "Condition/cond2", "Condition/cond5"),
        why="clinical-status token",
    ),
    Case("Condition?clinical-status=resolved", ("Condition/cond3",), why="clinical-status token"),
    Case(
        "Condition?clinical-status=http://terminology.hl7.org/CodeSystem/condition-clinical|inactive",
        ("Condition/cond4",),
        why="system|code on clinical-status",
    ),
    Case(
        "Condition?clinical-status:not=active",
        ("Condition/cond3", "Condition/cond4"),
        why=":not on clinical-status",
    ),
    Case(
        "Patient?gender=male",
        ("Patient/p1", "Patient/p4", "Patient/p5", "Patient/p6", "Patient/p7"),
        why="gender token",
    ),
    Case("Patient?gender=female", ("Patient/p2", "Patient/p3", "Patient/p8"), why="gender token"),
    Case(
        "Patient?gender:not=male",
        ("Patient/p2", "Patient/p3", "Patient/p8", "Patient/p10"),
        why=":not includes resources with no value at all (p10 has no gender)",
    ),
    Case(
        "Patient?gender=male,female",
        _without(ALL_PATIENTS, "Patient/p10"),
        why="OR over gender",
    ),
    Case("Patient?gender=other", (), why="token with no match"),
    Case(
        "Patient?active=true",
        ("Patient/p1", "Patient/p2", "Patient/p3", "Patient/p6", "Patient/p8"),
        why="boolean token",
    ),
    Case("Patient?active=false", ("Patient/p4", "Patient/p7"), why="boolean token false"),
    Case(
        "Patient?active:not=true",
        ("Patient/p4", "Patient/p7", "Patient/p5", "Patient/p10"),
        why=":not on boolean includes resources without active",
    ),
    Case(
        "Patient?identifier=12345",
        ("Patient/p3", "Patient/p4", "Patient/p5"),
        why="identifier value in any system, and with no system",
    ),
    Case(
        "Patient?identifier=http://hospital.example/mrn|12345",
        ("Patient/p4",),
        why="identifier system|value",
    ),
    Case(
        "Patient?identifier=http://hospital.example/mrn%7C12345",
        ("Patient/p4",),
        why="identifier system%7Cvalue",
    ),
    Case(
        "Patient?identifier=urn:oid:2.16.840.1.113883.2.4.6.3|12345",
        ("Patient/p3",),
        why="identifier with a urn:oid system",
    ),
    Case("Patient?identifier=|12345", ("Patient/p5",), why="|value: identifier without a system"),
    Case(
        "Patient?identifier=http://hospital.example/mrn|",
        ("Patient/p1", "Patient/p2", "Patient/p4", "Patient/p6", "Patient/p7", "Patient/p8", "Patient/p10"),
        why="system|: any identifier in that system",
    ),
    Case(
        "Patient?identifier=urn:oid:2.16.840.1.113883.2.4.6.3|",
        ("Patient/p1", "Patient/p3"),
        why="system| with a urn:oid system",
    ),
    Case(
        "Patient?identifier=http://hospital.example/mrn|738472983",
        (),
        why="value exists on p1 but in another system",
    ),
    Case("Patient?identifier=MRN-1001", ("Patient/p1",), why="identifier value alone"),
    Case(
        "Patient?identifier=12345,MRN-1007",
        ("Patient/p3", "Patient/p4", "Patient/p5", "Patient/p7"),
        why="OR over identifier values",
    ),
    Case("Patient?phone=0355556473", ("Patient/p1",), why="phone covers telecom where system=phone"),
    Case("Patient?phone=13800000001", ("Patient/p4",), why="phone"),
    Case("Patient?email=peter.chalmers@example.org", ("Patient/p1",), why="email covers system=email"),
    Case("Patient?phone=peter.chalmers@example.org", (), why="phone excludes email ContactPoints"),
    Case("Patient?email=0612345678", (), why="email excludes phone ContactPoints"),
    Case("Patient?telecom=0612345678", ("Patient/p6",), why="telecom covers every ContactPoint"),
    Case("Patient?telecom=juergen.mueller@example.org", ("Patient/p6",), why="telecom covers emails too"),
    Case(
        "Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|1111111111",
        ("Practitioner/pr1",),
        why="Practitioner identifier",
    ),
    Case(
        "Practitioner?gender=female",
        ("Practitioner/pr2", "Practitioner/pr3"),
        why="Practitioner gender",
    ),
    Case("Encounter?status=finished", ("Encounter/enc1", "Encounter/enc2", "Encounter/enc5"), why="status"),
    Case("Encounter?status:not=finished", ("Encounter/enc3", "Encounter/enc4"), why=":not on status"),
    Case("Encounter?class=IMP", ("Encounter/enc1", "Encounter/enc3"), why="class is a Coding"),
    Case(
        "Encounter?class=http://terminology.hl7.org/CodeSystem/v3-ActCode|AMB",
        ("Encounter/enc2", "Encounter/enc4"),
        why="system|code on a Coding",
    ),
    Case(
        "MedicationRequest?code=http://www.nlm.nih.gov/research/umls/rxnorm|197361",
        ("MedicationRequest/mr1",),
        why="MedicationRequest code covers medicationCodeableConcept",
    ),
    Case(
        "MedicationRequest?code=313782",
        ("MedicationRequest/mr3", "MedicationRequest/mr4"),
        why="code alone on medication",
    ),
    Case("MedicationRequest?code:text=amlo", ("MedicationRequest/mr1",), why=":text on Coding.display"),
    Case(
        "MedicationRequest?status=active",
        ("MedicationRequest/mr1", "MedicationRequest/mr2"),
        why="status",
    ),
    Case(
        "MedicationRequest?status:not=active",
        ("MedicationRequest/mr3", "MedicationRequest/mr4"),
        why=":not on status",
    ),
    Case("MedicationRequest?intent=plan", ("MedicationRequest/mr4",), why="intent"),
    Case("Appointment?status=booked", ("Appointment/appt1",), why="Appointment status"),
    Case("Appointment?status=proposed", ("Appointment/appt2",), why="Appointment status"),
    # =========================================================================================
    # date (search.html#date and the prefix table, #prefix): each value is a range set by its
    # precision; eq = the search range contains the target range; ne = not eq; gt/lt = the range
    # above/below the search value overlaps the target; ge/le = gt/lt or eq; sa/eb = no overlap and
    # the target lies wholly after/before; a Period is its range, an open end is unbounded
    # =========================================================================================
    # Patient.birthDate: 1974-12-25, 1980 (year), 1980-05 (month), 1985-07-15, 1950-03-03,
    # 1990-01-01, 2001-09-11, 2001-09 (month), 2010-06-30
    Case("Patient?birthdate=1974-12-25", ("Patient/p1",), why="eq day against a day"),
    Case(
        "Patient?birthdate=1980",
        ("Patient/p2", "Patient/p3"),
        why="eq year contains a year and a month of that year",
    ),
    Case("Patient?birthdate=eq1980", ("Patient/p2", "Patient/p3"), why="explicit eq prefix"),
    Case("Patient?birthdate=1980-05", ("Patient/p3",), why="eq month does not contain the whole year 1980"),
    Case("Patient?birthdate=1980-05-12", (), why="eq day contains neither the year 1980 nor May 1980"),
    Case(
        "Patient?birthdate=ne1980",
        ("Patient/p1", "Patient/p4", "Patient/p5", "Patient/p6", "Patient/p7", "Patient/p8", "Patient/p10"),
        why="ne = the search range does not contain the target",
    ),
    Case(
        "Patient?birthdate=ne1980-05",
        _without(ALL_PATIENTS, "Patient/p3"),
        why="ne month: the year 1980 is not contained in May, so p2 is ne",
    ),
    Case(
        "Patient?birthdate=gt1980-05-12",
        ("Patient/p2", "Patient/p3", "Patient/p4", "Patient/p6", "Patient/p7", "Patient/p8", "Patient/p10"),
        why="gt: the year 1980 and May 1980 extend above 1980-05-12",
    ),
    Case(
        "Patient?birthdate=lt1980-05-12",
        ("Patient/p1", "Patient/p2", "Patient/p3", "Patient/p5"),
        why="lt: the year 1980 and May 1980 extend below 1980-05-12",
    ),
    Case(
        "Patient?birthdate=ge1980",
        ("Patient/p2", "Patient/p3", "Patient/p4", "Patient/p6", "Patient/p7", "Patient/p8", "Patient/p10"),
        why="ge = gt or eq (the year contains p2 and p3)",
    ),
    Case("Patient?birthdate=le1974-12-25", ("Patient/p1", "Patient/p5"), why="le = lt or eq"),
    Case("Patient?birthdate=lt1974-12-25", ("Patient/p5",), why="lt excludes the equal day"),
    Case(
        "Patient?birthdate=sa1980-04",
        ("Patient/p3", "Patient/p4", "Patient/p6", "Patient/p7", "Patient/p8", "Patient/p10"),
        why="sa: May 1980 starts after April ends; the year 1980 overlaps April",
    ),
    Case(
        "Patient?birthdate=eb1980-06",
        ("Patient/p1", "Patient/p3", "Patient/p5"),
        why="eb: May 1980 ends before June; the year 1980 does not",
    ),
    Case("Patient?birthdate=eb1980", ("Patient/p1", "Patient/p5"), why="eb year"),
    Case(
        "Patient?birthdate=sa1980",
        ("Patient/p4", "Patient/p6", "Patient/p7", "Patient/p8", "Patient/p10"),
        why="sa year",
    ),
    Case(
        "Patient?birthdate=2001-09", ("Patient/p7", "Patient/p8"), why="eq month contains a day and the month"
    ),
    Case("Patient?birthdate=2001-09-11", ("Patient/p7",), why="eq day does not contain the month 2001-09"),
    Case(
        "Patient?birthdate=gt2001-09-11",
        ("Patient/p8", "Patient/p10"),
        why="gt: September 2001 extends above the 11th; the 11th itself does not",
    ),
    Case(
        "Patient?birthdate=lt2001-09-11",
        ("Patient/p1", "Patient/p2", "Patient/p3", "Patient/p4", "Patient/p5", "Patient/p6", "Patient/p8"),
        why="lt: September 2001 extends below the 11th",
    ),
    Case(
        "Patient?birthdate=le2001-09-11",
        _without(ALL_PATIENTS, "Patient/p10"),
        why="le adds the equal day",
    ),
    Case(
        "Patient?birthdate=ge2001-09-11",
        ("Patient/p7", "Patient/p8", "Patient/p10"),
        why="ge adds the equal day",
    ),
    Case(
        "Patient?birthdate=1974-12-25,1990-01-01",
        ("Patient/p1", "Patient/p6"),
        why="comma ORs dates",
    ),
    Case(
        "Patient?birthdate=ge1980&birthdate=lt1990",
        ("Patient/p2", "Patient/p3", "Patient/p4"),
        why="two date parameters ANDed make a range",
    ),
    # Observation date = effective[x]: dateTime with zones, date, month, Period (one open), instant
    Case(
        "Observation?date=2021",
        (
            "Observation/obs-hr1",
            "Observation/obs-hr2",
            "Observation/obs-wt1",
            "Observation/obs-bp1",
            "Observation/obs-wt2",
            "Observation/obs-wt3",
            "Observation/obs-local",
        ),
        why="eq year; the open Period from 2021-06-01 is not contained in 2021",
    ),
    Case(
        "Observation?date=ne2021",
        (
            "Observation/obs-hr3",
            "Observation/obs-smoke",
            "Observation/obs-bp2",
            "Observation/obs-bw",
            "Observation/obs-ext",
            "Observation/obs-hr4",
            "Observation/obs-nosys",
        ),
        why="ne year includes the open-ended Period starting in 2021",
    ),
    Case("Observation?date=2021-03", P1_OBS, why="eq month against dateTimes with zones"),
    Case(
        "Observation?date=2021-03-15",
        ("Observation/obs-hr1", "Observation/obs-hr2"),
        why="eq day: 20:00+08:00 is 12:00Z on the 15th",
    ),
    Case(
        "Observation?date=2021-03-15T12:00:00Z",
        ("Observation/obs-hr1",),
        why="eq to the second: 2021-03-15T20:00:00+08:00 is the same instant",
    ),
    Case(
        "Observation?date=2021-03-15T20:00:00%2B08:00",
        ("Observation/obs-hr1",),
        why="a search value with an offset (+ encoded as %2B)",
    ),
    Case(
        "Observation?code=8867-4&date=lt2021-03-15T12:30:00Z",
        ("Observation/obs-hr1", "Observation/obs-hr3"),
        why="lt compares instants: 20:00+08:00 (12:00Z) is before 12:30Z",
    ),
    Case(
        "Observation?code=8867-4&date=gt2021-03-15T12:30:00Z",
        ("Observation/obs-hr2", "Observation/obs-ext", "Observation/obs-hr4", "Observation/obs-nosys"),
        why="gt compares instants: 20:00+08:00 (12:00Z) is not after 12:30Z",
    ),
    Case(
        "Observation?date=gt2021-12-31",
        ("Observation/obs-bp2", "Observation/obs-ext", "Observation/obs-hr4", "Observation/obs-nosys"),
        why="gt: an open-ended Period reaches above any date",
    ),
    Case(
        "Observation?date=gt2025",
        ("Observation/obs-bp2",),
        why="gt: only the Period without an end",
    ),
    Case("Observation?date=2021-06", (), why="eq month does not contain an open-ended Period"),
    Case(
        "Observation?date=lt2020-01-01",
        ("Observation/obs-bw", "Observation/obs-smoke"),
        why="lt day",
    ),
    Case(
        "Observation?date=le2020-11-02",
        ("Observation/obs-bw", "Observation/obs-smoke", "Observation/obs-hr3"),
        why="le includes the target whose day equals the search day",
    ),
    Case(
        "Observation?date=lt2020-11-02",
        ("Observation/obs-bw", "Observation/obs-smoke"),
        why="lt excludes the target on the search day",
    ),
    Case(
        "Observation?date=ge2022-07-01",
        ("Observation/obs-hr4", "Observation/obs-bp2", "Observation/obs-nosys"),
        why="ge: the instant on that day (eq) and later values, incl. the open Period",
    ),
    Case("Observation?date=2022-07-01", ("Observation/obs-hr4",), why="eq day contains an effectiveInstant"),
    Case(
        "Observation?date=2022-07-01T11:00:00Z",
        ("Observation/obs-hr4",),
        why="eq second contains the instant 11:00:00.000Z",
    ),
    Case(
        "Observation?date=sa2021-03-15",
        (
            "Observation/obs-bp1",
            "Observation/obs-bp2",
            "Observation/obs-local",
            "Observation/obs-ext",
            "Observation/obs-hr4",
            "Observation/obs-nosys",
        ),
        why="sa: the target starts after the search day ends",
    ),
    Case(
        "Observation?date=eb2021-03-15",
        (
            "Observation/obs-wt1",
            "Observation/obs-wt2",
            "Observation/obs-wt3",
            "Observation/obs-hr3",
            "Observation/obs-smoke",
            "Observation/obs-bw",
        ),
        why="eb: the target ends before the search day starts",
    ),
    Case(
        "Observation?date=2021-01-11",
        (),
        why="eq: a Period 2021-01-10..12 overlaps the day but is not contained in it",
    ),
    Case(
        "Observation?date=lt2021-01-11",
        ("Observation/obs-wt2", "Observation/obs-hr3", "Observation/obs-smoke", "Observation/obs-bw"),
        why="lt: a Period that starts before the day",
    ),
    Case(
        "Observation?date=eb2021-01-13",
        ("Observation/obs-wt2", "Observation/obs-hr3", "Observation/obs-smoke", "Observation/obs-bw"),
        why="eb: a Period that ends (01-12T12:00Z) before the day starts",
    ),
    Case(
        "Observation?date=eb2021-01-12",
        ("Observation/obs-hr3", "Observation/obs-smoke", "Observation/obs-bw"),
        why="eb: a Period ending during the day does not end before it",
    ),
    Case(
        "Observation?date=sa2021-05",
        ("Observation/obs-bp2", "Observation/obs-ext", "Observation/obs-hr4", "Observation/obs-nosys"),
        why="sa month: an open Period starting after May 2021",
    ),
    Case(
        "Observation?date=ge2021-03-14&date=lt2021-03-16",
        ("Observation/obs-wt1", "Observation/obs-hr1", "Observation/obs-hr2"),
        why="two prefixed dates ANDed",
    ),
    Case(
        "Observation?date=2020-11-02,2019-05-20",
        ("Observation/obs-hr3", "Observation/obs-smoke"),
        why="comma ORs dates",
    ),
    # Encounter date = Encounter.period
    Case("Encounter?date=2021-03", ("Encounter/enc1",), why="eq month contains a 2-day Period"),
    Case("Encounter?date=2021-03-15", (), why="eq day does not contain a Period spanning three days"),
    Case(
        "Encounter?date=gt2021-03-15",
        ("Encounter/enc1", "Encounter/enc3", "Encounter/enc4"),
        why="gt: a Period ending on 03-16 reaches above 03-15",
    ),
    Case(
        "Encounter?date=lt2021-03-15",
        ("Encounter/enc1", "Encounter/enc2", "Encounter/enc5"),
        why="lt: a Period starting on 03-14 reaches below 03-15",
    ),
    Case("Encounter?date=2021-01", ("Encounter/enc2",), why="eq month, Period of dates"),
    Case(
        "Encounter?date=2021-01-12",
        (),
        why="eq: the Period end 2021-01-12 is one day of a three-day range",
    ),
    Case("Encounter?date=2023-02-01", ("Encounter/enc4",), why="eq day contains a 30-minute Period"),
    Case("Encounter?date=sa2022", ("Encounter/enc4",), why="sa: only a Period starting after 2022"),
    Case("Encounter?date=eb2021", ("Encounter/enc5",), why="eb: only a Period ending before 2021"),
    Case("Encounter?date=ge2030", ("Encounter/enc3",), why="ge: the in-progress Period has no end"),
    Case("Encounter?date=le2020-12-31", ("Encounter/enc5",), why="le: contained in the day"),
    Case(
        "Encounter?date=ne2021-01",
        ("Encounter/enc1", "Encounter/enc3", "Encounter/enc4", "Encounter/enc5"),
        why="ne month",
    ),
    Case(
        "Encounter?date=eb2022-06",
        ("Encounter/enc1", "Encounter/enc2", "Encounter/enc5"),
        why="eb: the open-ended Period never ends before anything",
    ),
    # Condition onset-date = onsetDateTime | onsetPeriod
    Case("Condition?onset-date=2015-06-01", ("Condition/cond1",), why="onset-date eq day"),
    Case("Condition?onset-date=2018", ("Condition/cond2",), why="eq year contains a month"),
    Case("Condition?onset-date=2018-03-15", (), why="eq day does not contain a month"),
    Case(
        "Condition?onset-date=lt2019",
        ("Condition/cond1", "Condition/cond2"),
        why="lt year; cond5 has no onset",
    ),
    Case("Condition?onset-date=2020-11", ("Condition/cond3",), why="onset-date covers onsetPeriod"),
    Case("Condition?onset-date=gt2020-11-05", ("Condition/cond3",), why="gt: onsetPeriod ends 2020-11-10"),
    Case("Condition?onset-date=sa2019", ("Condition/cond3",), why="sa year"),
    Case(
        "Condition?onset-date=eb2019-03",
        ("Condition/cond1", "Condition/cond2", "Condition/cond4"),
        why="eb month",
    ),
    Case("Condition?onset-date=2019-02-14", ("Condition/cond4",), why="eq day contains a dateTime"),
    # MedicationRequest authoredon, Appointment date (= start, an instant)
    Case("MedicationRequest?authoredon=2020-11-02", ("MedicationRequest/mr3",), why="authoredon eq"),
    Case(
        "MedicationRequest?authoredon=lt2020",
        ("MedicationRequest/mr2", "MedicationRequest/mr4"),
        why="authoredon lt year",
    ),
    Case("MedicationRequest?authoredon=ge2021-01", ("MedicationRequest/mr1",), why="authoredon ge month"),
    Case("Appointment?date=2024-05-20", ("Appointment/appt1",), why="Appointment date covers start"),
    Case("Appointment?date=2024-05", ("Appointment/appt1",), why="eq month"),
    Case("Appointment?date=ge2024-05-21", ("Appointment/appt2",), why="ge day"),
    Case(
        "Appointment?date=lt2024-06-01T12:50:00Z",
        ("Appointment/appt1",),
        why="lt to the second: 13:00Z is not below 12:50Z",
    ),
    Case(
        "Appointment?date=gt2024-06-01T12:50:00Z",
        ("Appointment/appt2",),
        why="gt to the second",
    ),
    # =========================================================================================
    # quantity / number (search.html#quantity, #number): [prefix]number|system|code; no prefix = eq with
    # the implicit precision range ("70" = [69.5, 70.5)); no unit = any unit
    # values: hr 72, 88, 64, 76, ext 101, nosys 95 (/min); wt 69.8, 82, 65 (kg); bw 3400 g
    # =========================================================================================
    Case(
        "Observation?value-quantity=gt70",
        (
            "Observation/obs-hr1",
            "Observation/obs-hr2",
            "Observation/obs-hr4",
            "Observation/obs-ext",
            "Observation/obs-nosys",
            "Observation/obs-wt2",
            "Observation/obs-bw",
        ),
        why="gt without units: any unit; components are not value[x]",
    ),
    Case(
        "Observation?value-quantity=gt100",
        ("Observation/obs-ext", "Observation/obs-bw"),
        why="gt without units compares the stated number (3400 g)",
    ),
    Case(
        "Observation?value-quantity=lt66",
        ("Observation/obs-hr3", "Observation/obs-wt3"),
        why="lt",
    ),
    Case(
        "Observation?value-quantity=le65",
        ("Observation/obs-hr3", "Observation/obs-wt3"),
        why="le includes the equal value",
    ),
    Case(
        "Observation?value-quantity=70",
        ("Observation/obs-wt1",),
        why="eq with implicit precision: 70 means [69.5, 70.5), so 69.8 matches",
    ),
    Case(
        "Observation?value-quantity=70.0",
        (),
        why="70.0 means [69.95, 70.05): 69.8 does not match",
    ),
    Case("Observation?value-quantity=69.8", ("Observation/obs-wt1",), why="eq to the stated precision"),
    Case(
        "Observation?value-quantity=70|http://unitsofmeasure.org|kg",
        ("Observation/obs-wt1",),
        why="number|system|code",
    ),
    Case(
        "Observation?value-quantity=70||kg",
        ("Observation/obs-wt1",),
        why="number||code: no system, unit code or unit matches",
    ),
    Case("Observation?value-quantity=70||g", (), why="unit must match (70 g is none of the values)"),
    Case(
        "Observation?value-quantity=72|http://unitsofmeasure.org|/min",
        ("Observation/obs-hr1",),
        why="UCUM /min",
    ),
    Case(
        "Observation?value-quantity=72||beats/minute",
        ("Observation/obs-hr1",),
        why="number||unit matches Quantity.unit",
    ),
    Case("Observation?value-quantity=72|http://snomed.info/sct|/min", (), why="the system must match"),
    Case(
        "Observation?value-quantity=ge82|http://unitsofmeasure.org|kg",
        ("Observation/obs-wt2",),
        why="prefix with system and code",
    ),
    Case(
        "Observation?value-quantity=3400|http://unitsofmeasure.org|g",
        ("Observation/obs-bw",),
        why="grams",
    ),
    Case(
        "Observation?code=8867-4&value-quantity=ne72",
        (
            "Observation/obs-hr2",
            "Observation/obs-hr3",
            "Observation/obs-hr4",
            "Observation/obs-ext",
            "Observation/obs-nosys",
        ),
        why="ne: every heart rate except 72",
    ),
    Case(
        "Observation?value-quantity=gt60&value-quantity=lt66",
        ("Observation/obs-hr3", "Observation/obs-wt3"),
        why="AND of two quantity conditions",
    ),
    Case(
        "Observation?value-quantity=64,65",
        ("Observation/obs-hr3", "Observation/obs-wt3"),
        why="OR of two quantity values",
    ),
    # =========================================================================================
    # composite (search.html#composite): components joined by $; each side matched on the same
    # Observation (code-value-quantity) or the same component (component-code-value-quantity)
    # =========================================================================================
    Case(
        "Observation?code-value-quantity=http://loinc.org|29463-7$gt70",
        ("Observation/obs-wt2",),
        why="code and value of the same Observation",
    ),
    Case(
        "Observation?code-value-quantity=http://loinc.org|29463-7$lt68",
        ("Observation/obs-wt3",),
        why="composite with lt",
    ),
    Case(
        "Observation?code-value-quantity=http://loinc.org|29463-7$70|http://unitsofmeasure.org|kg",
        ("Observation/obs-wt1",),
        why="composite with a full quantity",
    ),
    Case(
        "Observation?code-value-quantity=http://loinc.org|8867-4$gt90",
        ("Observation/obs-ext",),
        why="system|code in the token part excludes the code without system",
    ),
    Case(
        "Observation?code-value-quantity=8867-4$gt90",
        ("Observation/obs-ext", "Observation/obs-nosys"),
        why="code alone in the token part",
    ),
    Case("Observation?code-value-quantity=http://loinc.org|8867-4$gt200", (), why="composite no match"),
    Case(
        "Observation?code-value-quantity=http://loinc.org|85354-9$gt100",
        (),
        why="component values are not Observation.value",
    ),
    Case(
        "Observation?code-value-quantity=http://loinc.org|29463-7$gt80,http://loinc.org|8867-4$gt100",
        ("Observation/obs-wt2", "Observation/obs-ext"),
        why="comma ORs composite values",
    ),
    Case(
        "Observation?component-code-value-quantity=http://loinc.org|8480-6$gt130",
        ("Observation/obs-bp1",),
        why="systolic > 130",
    ),
    Case(
        "Observation?component-code-value-quantity=http://loinc.org|8480-6$gt100",
        ("Observation/obs-bp1", "Observation/obs-bp2"),
        why="systolic > 100",
    ),
    Case(
        "Observation?component-code-value-quantity=http://loinc.org|8462-4$gt130",
        (),
        why="code and value must be in the same component (142 is systolic)",
    ),
    Case(
        "Observation?component-code-value-quantity=http://loinc.org|8462-4$lt80",
        ("Observation/obs-bp2",),
        why="diastolic < 80",
    ),
    Case(
        "Observation?component-code-value-quantity=8480-6$142",
        ("Observation/obs-bp1",),
        why="composite eq on a component",
    ),
    # =========================================================================================
    # reference (search.html#reference): Type/id, id alone, :Type, absolute URL
    # =========================================================================================
    Case("Observation?subject=Patient/p1", P1_OBS, why="reference by Type/id"),
    Case("Observation?subject=p1", P1_OBS, why="reference by id alone"),
    Case("Observation?subject:Patient=p1", P1_OBS, why="reference with a :Type modifier"),
    Case("Observation?patient=p1", P1_OBS, why="patient = subject where it is a Patient"),
    Case("Observation?patient=Patient/p4", P4_OBS, why="patient by Type/id"),
    Case(
        "Observation?subject=http://example.org/fhir/Patient/p9",
        ("Observation/obs-ext",),
        why="reference by absolute URL of another server",
    ),
    Case("Observation?subject=Patient/p5", (), why="a patient with no observations"),
    Case("Observation?subject=Patient/p10", ("Observation/obs-bw",), why="reference by Type/id"),
    Case(
        "Observation?subject=Patient/p1,Patient/p2",
        P1_OBS + ("Observation/obs-hr3", "Observation/obs-smoke"),
        why="comma ORs references",
    ),
    Case(
        "Observation?encounter=Encounter/enc1",
        ("Observation/obs-hr1", "Observation/obs-wt1"),
        why="encounter reference",
    ),
    Case("Observation?_id=obs-hr1&subject=Patient/p2", (), why="AND of _id and reference"),
    Case("Condition?subject=Patient/p1", ("Condition/cond1",), why="Condition subject"),
    Case("Condition?patient=p4", ("Condition/cond2",), why="Condition patient by id"),
    Case(
        "Patient?general-practitioner=Practitioner/pr1",
        ("Patient/p1", "Patient/p2"),
        why="general-practitioner",
    ),
    Case("Patient?general-practitioner=pr3", ("Patient/p4",), why="general-practitioner by id"),
    Case(
        "Patient?general-practitioner=Organization/org-other",
        ("Patient/p6",),
        why="general-practitioner may be an Organization",
    ),
    Case(
        "Patient?general-practitioner:Organization=org-other",
        ("Patient/p6",),
        why=":Organization type modifier",
    ),
    Case(
        "Patient?general-practitioner:Practitioner=org-other", (), why="the type modifier restricts the type"
    ),
    Case(
        "Patient?organization=Organization/org-hosp",
        ("Patient/p1", "Patient/p4"),
        why="organization = managingOrganization",
    ),
    Case("Patient?organization=org-clinic", ("Patient/p2",), why="organization by id"),
    Case("Patient?organization=Organization/org-root", (), why="no patient is managed by org-root"),
    Case("Encounter?subject=Patient/p1", ("Encounter/enc1",), why="Encounter subject"),
    Case("Encounter?patient=p4", ("Encounter/enc3",), why="Encounter patient"),
    Case(
        "Encounter?service-provider=Organization/org-clinic",
        ("Encounter/enc2", "Encounter/enc4"),
        why="service-provider",
    ),
    Case(
        "Encounter?practitioner=Practitioner/pr1",
        ("Encounter/enc1", "Encounter/enc4"),
        why="practitioner = participant.individual that is a Practitioner",
    ),
    Case("Encounter?participant=pr2", ("Encounter/enc2", "Encounter/enc4"), why="participant by id"),
    Case("MedicationRequest?requester=Practitioner/pr1", ("MedicationRequest/mr1",), why="requester"),
    Case(
        "MedicationRequest?requester=Organization/org-hosp",
        ("MedicationRequest/mr4",),
        why="requester may be an Organization",
    ),
    Case(
        "MedicationRequest?subject=p1",
        ("MedicationRequest/mr1", "MedicationRequest/mr4"),
        why="MedicationRequest subject",
    ),
    Case("Appointment?actor=Patient/p1", ("Appointment/appt1",), why="actor = participant.actor"),
    Case("Appointment?actor:Practitioner=pr1", ("Appointment/appt1",), why="actor with :Practitioner"),
    Case("Appointment?practitioner=pr2", ("Appointment/appt2",), why="practitioner actor"),
    Case("Appointment?patient=p2", ("Appointment/appt2",), why="patient actor"),
    Case(
        "Organization?partof=Organization/org-root",
        ("Organization/org-hosp",),
        why="partof",
    ),
    Case("Organization?partof=org-hosp", ("Organization/org-clinic",), why="partof by id"),
    # =========================================================================================
    # chaining (search.html#chaining): param.param, with :Type to pick the target type, one or two levels
    # =========================================================================================
    Case(
        "Observation?subject:Patient.name=chalmers",
        P1_OBS + ("Observation/obs-hr3", "Observation/obs-smoke", "Observation/obs-wt2"),
        why="chain through subject:Patient to a string",
    ),
    Case("Observation?patient.name=peter", P1_OBS, why="chain through patient"),
    Case(
        "Observation?patient.gender=female",
        ("Observation/obs-hr3", "Observation/obs-smoke", "Observation/obs-wt2"),
        why="chain to a token",
    ),
    Case(
        "Observation?subject:Patient.birthdate=1980",
        ("Observation/obs-hr3", "Observation/obs-smoke", "Observation/obs-wt2"),
        why="chain to a date",
    ),
    Case(
        "Observation?patient.identifier=http://hospital.example/mrn|12345",
        P4_OBS,
        why="chain to an identifier",
    ),
    Case("Observation?patient.name=nobody", (), why="chain with no match"),
    Case(
        "Observation?patient.organization.name=lakeside",
        ("Observation/obs-wt2",),
        why="two-level chain: patient -> organization -> name",
    ),
    Case(
        "Observation?encounter.service-provider.name=zhiyi",
        ("Observation/obs-hr1", "Observation/obs-wt1"),
        why="two-level chain: encounter -> service-provider -> name",
    ),
    Case(
        "Patient?organization.partof.name=zhiyi",
        ("Patient/p1", "Patient/p2", "Patient/p4"),
        why="two-level chain: organization -> partof -> name",
    ),
    Case(
        "Patient?organization.partof.name=zhiyi%20general",
        ("Patient/p2",),
        why="two-level chain, only org-clinic's parent is Zhiyi General Hospital",
    ),
    Case("Patient?organization.name=riverside", ("Patient/p2",), why="one-level chain on organization"),
    Case(
        "Patient?general-practitioner:Practitioner.family=house",
        ("Patient/p1", "Patient/p2"),
        why="chain with a type modifier",
    ),
    Case(
        "Condition?subject:Patient.address-city=上海",
        ("Condition/cond2",),
        why="chain to a Chinese address-city",
    ),
    Case(
        "Encounter?service-provider.name=riverside",
        ("Encounter/enc2", "Encounter/enc4"),
        why="chain on service-provider",
    ),
    Case(
        "Encounter?service-provider.partof.name=zhiyi%20health",
        ("Encounter/enc1", "Encounter/enc5"),
        why="two-level chain on Encounter",
    ),
    Case(
        "Encounter?subject:Patient.gender=female",
        ("Encounter/enc2", "Encounter/enc4"),
        why="chain to gender",
    ),
    Case(
        "MedicationRequest?requester:Practitioner.name=李",
        ("MedicationRequest/mr2",),
        why="chain to a Chinese name",
    ),
    Case("MedicationRequest?patient.name=张", ("MedicationRequest/mr2",), why="chain through patient"),
    Case(
        "Organization?partof.name=zhiyi",
        ("Organization/org-hosp", "Organization/org-clinic"),
        why="chain on partof",
    ),
    Case(
        "Appointment?patient.family=chal",
        ("Appointment/appt1", "Appointment/appt2"),
        why="chain from Appointment patient",
    ),
    Case(
        "Observation?subject:Patient.name=chalmers&code=8867-4",
        ("Observation/obs-hr1", "Observation/obs-hr2", "Observation/obs-hr3"),
        why="a chain and a token: both hold",
    ),
    Case(
        "Observation?subject.name=chalmers&code=8867-4",
        ("Observation/obs-hr1", "Observation/obs-hr2", "Observation/obs-hr3"),
        why="a chain of several possible targets (Patient, Group, Device, Location) and a token",
    ),
    Case(
        "Observation?subject:Patient.name=chalmers&code:not=8867-4",
        ("Observation/obs-wt1", "Observation/obs-bp1", "Observation/obs-smoke", "Observation/obs-wt2"),
        why="a chain and a :not token",
    ),
    Case(
        "Observation?subject:Patient.name=chalmers&patient.gender=female",
        ("Observation/obs-hr3", "Observation/obs-smoke", "Observation/obs-wt2"),
        why="two chains: both hold",
    ),
    Case(
        "Observation?subject:Patient.name=chalmers&code=8867-4&_sort=-_id",
        ("Observation/obs-hr3", "Observation/obs-hr2", "Observation/obs-hr1"),
        ordered=True,
        why="a chain and a token, sorted",
    ),
    Case(
        "Observation?patient.name=chalmers&code=8867-4&_summary=count",
        (),
        total=3,
        why="a chain and a token, counted",
    ),
    # =========================================================================================
    # reverse chaining (search.html#has): _has:Type:param:searchparam
    # =========================================================================================
    Case(
        "Patient?_has:Observation:patient:code=8867-4",
        ("Patient/p1", "Patient/p2", "Patient/p6", "Patient/p7"),
        why="patients with a heart-rate Observation (external p9 is not local)",
    ),
    Case(
        "Patient?_has:Observation:patient:code=http://loinc.org|8867-4",
        ("Patient/p1", "Patient/p2", "Patient/p6"),
        why="_has with system|code",
    ),
    Case(
        "Patient?_has:Observation:subject:code=29463-7",
        ("Patient/p1", "Patient/p3", "Patient/p4"),
        why="_has through subject",
    ),
    Case("Patient?_has:Observation:patient:code=9999-9", (), why="_has with no match"),
    Case(
        "Patient?_has:Condition:subject:code=I10",
        ("Patient/p1", "Patient/p3"),
        why="_has on Condition",
    ),
    Case(
        "Patient?_has:Condition:subject:clinical-status=active",
        ("Patient/p1", "Patient/p4", "Patient/p7"),
        why="_has on clinical-status",
    ),
    Case("Patient?_has:Encounter:subject:status=in-progress", ("Patient/p4",), why="_has on Encounter"),
    Case(
        "Patient?gender=female&_has:Observation:patient:code=8867-4",
        ("Patient/p2",),
        why="_has ANDed with a normal parameter",
    ),
    Case(
        "Patient?_has:Encounter:subject:_has:Observation:encounter:code=29463-7",
        ("Patient/p1", "Patient/p3"),
        why="nested _has: patients with an encounter that has a weight Observation",
    ),
    Case(
        "Practitioner?_has:Encounter:practitioner:status=planned",
        ("Practitioner/pr1", "Practitioner/pr2"),
        why="_has on Practitioner",
    ),
    Case(
        "Practitioner?_has:MedicationRequest:requester:status=active",
        ("Practitioner/pr1", "Practitioner/pr3"),
        why="_has through requester",
    ),
    Case(
        "Organization?_has:Patient:organization:gender=female",
        ("Organization/org-clinic", "Organization/org-other"),
        why="_has on Organization",
    ),
    # =========================================================================================
    # parameters for all resources: _id, _lastUpdated, _tag, _profile, :missing
    # =========================================================================================
    Case("Patient?_id=p1", ("Patient/p1",), why="_id"),
    Case("Patient?_id=p1,p3", ("Patient/p1", "Patient/p3"), why="_id with OR"),
    Case("Patient?_id=p1,nope", ("Patient/p1",), why="_id OR with an unknown id"),
    Case("Patient?_id=nope", (), why="_id not found is an empty search, not 404"),
    Case("Patient?_id=p1&_id=p3", (), why="_id twice is AND"),
    Case("Observation?_id=p1", (), why="_id is scoped to the resource type"),
    Case("Observation?_id=obs-hr1&code=8867-4", ("Observation/obs-hr1",), why="_id AND code"),
    Case("Observation?_id=obs-hr1&code=29463-7", (), why="_id AND a code it does not have"),
    Case(
        "Patient?_lastUpdated=gt2000-01-01", ALL_PATIENTS, why="_lastUpdated: everything is newer than 2000"
    ),
    Case("Patient?_lastUpdated=lt2000-01-01", (), why="_lastUpdated: nothing is older than 2000"),
    Case(
        "Observation?code=29463-7&_lastUpdated=ge2020-01-01",
        WEIGHTS,
        why="_lastUpdated ANDed with code",
    ),
    Case(
        "Patient?_tag=http://zhiyi.example/tags|vip",
        ("Patient/p1", "Patient/p4"),
        why="_tag system|code",
    ),
    Case("Patient?_tag=vip", ("Patient/p1", "Patient/p4"), why="_tag code alone"),
    Case("Patient?_tag=http://other.example/tags|vip", (), why="_tag with another system"),
    Case(
        "Patient?_tag:not=vip",
        ("Patient/p2", "Patient/p3", "Patient/p5", "Patient/p6", "Patient/p7", "Patient/p8", "Patient/p10"),
        why=":not on _tag includes resources without tags",
    ),
    Case("Observation?_tag=http://zhiyi.example/tags|tcm", ("Observation/obs-local",), why="_tag"),
    Case(
        "Observation?_profile=http://hl7.org/fhir/StructureDefinition/heartrate",
        ("Observation/obs-hr1", "Observation/obs-hr2"),
        why="_profile is a uri",
    ),
    Case(
        "Observation?_profile=http://hl7.org/fhir/StructureDefinition/vitalsigns",
        ("Observation/obs-hr1", "Observation/obs-hr2", "Observation/obs-wt1"),
        why="_profile on any of several profiles",
    ),
    Case(
        "Observation?_profile=http://hl7.org/fhir/StructureDefinition/bodyweight",
        ("Observation/obs-wt1",),
        why="_profile",
    ),
    Case(
        "Observation?_profile=http://hl7.org/fhir/StructureDefinition/vital",
        (),
        why="uri matches the whole value, not a prefix",
    ),
    Case("Patient?gender:missing=true", ("Patient/p10",), why=":missing=true"),
    Case("Patient?active:missing=true", ("Patient/p5", "Patient/p10"), why=":missing=true on boolean"),
    Case(
        "Patient?active:missing=false",
        ("Patient/p1", "Patient/p2", "Patient/p3", "Patient/p4", "Patient/p6", "Patient/p7", "Patient/p8"),
        why=":missing=false",
    ),
    Case("Condition?onset-date:missing=true", ("Condition/cond5",), why=":missing on a date"),
    Case(
        "Observation?encounter:missing=false",
        ("Observation/obs-hr1", "Observation/obs-wt1", "Observation/obs-wt2"),
        why=":missing=false on a reference",
    ),
    Case(
        "Organization?partof:missing=true",
        ("Organization/org-root", "Organization/org-other"),
        why=":missing on a reference",
    ),
    # =========================================================================================
    # _sort (search.html#sort): comma-separated keys, "-" for descending; _count pages
    # =========================================================================================
    Case(
        "Patient?gender=male&_sort=birthdate",
        ("Patient/p5", "Patient/p1", "Patient/p4", "Patient/p6", "Patient/p7"),
        ordered=True,
        why="_sort ascending on a date",
    ),
    Case(
        "Patient?gender=male&_sort=-birthdate",
        ("Patient/p7", "Patient/p6", "Patient/p4", "Patient/p1", "Patient/p5"),
        ordered=True,
        why="_sort descending with -",
    ),
    Case(
        "Patient?family=smith&_sort=family,given",
        ("Patient/p7", "Patient/p8"),
        ordered=True,
        why="second key breaks the tie on family (John < Sarah)",
    ),
    Case(
        "Patient?family=smith&_sort=family,-given",
        ("Patient/p8", "Patient/p7"),
        ordered=True,
        why="second key descending",
    ),
    Case(
        "Patient?_id=p6,p7,p8,p10&_sort=family,given",
        ("Patient/p10", "Patient/p6", "Patient/p7", "Patient/p8"),
        ordered=True,
        why="Goldsmith < Müller < Smith John < Smith Sarah",
    ),
    Case(
        "Patient?_id=p6,p7,p8,p10&_sort=-family,given",
        ("Patient/p7", "Patient/p8", "Patient/p6", "Patient/p10"),
        ordered=True,
        why="first key descending, second ascending",
    ),
    Case(
        "Patient?family=张&_sort=given",
        ("Patient/p5", "Patient/p4"),
        ordered=True,
        why="三丰 before 伟 in code point, pinyin and stroke order alike",
    ),
    Case(
        "Observation?subject=Patient/p1&_sort=-date",
        ("Observation/obs-bp1", "Observation/obs-hr2", "Observation/obs-hr1", "Observation/obs-wt1"),
        ordered=True,
        why="sort on instants: 20:00+08:00 (12:00Z) is before 13:00Z",
    ),
    Case(
        "Observation?subject=Patient/p1&_sort=date",
        ("Observation/obs-wt1", "Observation/obs-hr1", "Observation/obs-hr2", "Observation/obs-bp1"),
        ordered=True,
        why="sort ascending on effective[x]",
    ),
    Case(
        "Observation?code=http://loinc.org|8867-4&_sort=date",
        (
            "Observation/obs-hr3",
            "Observation/obs-hr1",
            "Observation/obs-hr2",
            "Observation/obs-ext",
            "Observation/obs-hr4",
        ),
        ordered=True,
        why="sort over dates, dateTimes with zones and an instant",
    ),
    Case(
        "Observation?code=29463-7&_sort=date",
        ("Observation/obs-wt2", "Observation/obs-wt3", "Observation/obs-wt1"),
        ordered=True,
        why="sort over a Period, a month and a dateTime that do not overlap",
    ),
    Case(
        "Observation?patient=p4&_sort=-date",
        ("Observation/obs-bp2", "Observation/obs-local", "Observation/obs-wt3"),
        ordered=True,
        why="sort descending with an open-ended Period",
    ),
    Case(
        "Encounter?status=finished&_sort=-date",
        ("Encounter/enc1", "Encounter/enc2", "Encounter/enc5"),
        ordered=True,
        why="sort on Encounter.period",
    ),
    Case(
        "MedicationRequest?subject=Patient/p1&_sort=authoredon",
        ("MedicationRequest/mr4", "MedicationRequest/mr1"),
        ordered=True,
        why="sort on authoredOn",
    ),
    Case(
        "MedicationRequest?subject=Patient/p1&_sort=-authoredon",
        ("MedicationRequest/mr1", "MedicationRequest/mr4"),
        ordered=True,
        why="sort descending on authoredOn",
    ),
    Case(
        "Patient?gender=male&_sort=birthdate&_count=2&_total=accurate",
        ("Patient/p5", "Patient/p1"),
        ordered=True,
        total=5,
        why="_count limits the page; total counts every match",
    ),
    Case(
        "Observation?subject=Patient/p1&_sort=-date&_count=2",
        ("Observation/obs-bp1", "Observation/obs-hr2"),
        ordered=True,
        why="_count with _sort: the first page is the two latest",
    ),
    Case(
        "Observation?subject=Patient/p1&_sort=date&_count=3&_total=accurate",
        ("Observation/obs-wt1", "Observation/obs-hr1", "Observation/obs-hr2"),
        ordered=True,
        total=4,
        why="_count 3 of 4",
    ),
    Case(
        "Patient?gender=female&_count=10",
        ("Patient/p2", "Patient/p3", "Patient/p8"),
        why="_count larger than the matches: all fit on one page",
    ),
    # =========================================================================================
    # _include / _revinclude (search.html#include, #revinclude): included resources have search.mode
    # "include"; a resource that matches is not repeated as an include; :iterate follows included resources
    # =========================================================================================
    Case(
        "Observation?code=http://loinc.org|29463-7&_include=Observation:subject",
        WEIGHTS,
        included=("Patient/p1", "Patient/p3", "Patient/p4"),
        why="_include the subjects",
    ),
    Case(
        "Observation?code=8867-4&_include=Observation:subject",
        HR_ANY,
        included=("Patient/p1", "Patient/p2", "Patient/p6", "Patient/p7"),
        why="_include: each patient once; an external reference is not included",
    ),
    Case(
        "Observation?code=8867-4&_include=Observation:subject:Patient",
        HR_ANY,
        included=("Patient/p1", "Patient/p2", "Patient/p6", "Patient/p7"),
        why="_include with a target type",
    ),
    Case(
        "Observation?_id=obs-ext&_include=Observation:subject",
        ("Observation/obs-ext",),
        why="_include of a reference to another server includes nothing",
    ),
    Case(
        "Observation?_id=obs-wt1&_include=Observation:encounter",
        ("Observation/obs-wt1",),
        included=("Encounter/enc1",),
        why="_include of the encounter",
    ),
    Case(
        "MedicationRequest?_include=MedicationRequest:requester",
        ("MedicationRequest/mr1", "MedicationRequest/mr2", "MedicationRequest/mr3", "MedicationRequest/mr4"),
        included=("Practitioner/pr1", "Practitioner/pr2", "Practitioner/pr3", "Organization/org-hosp"),
        why="_include of requesters of several types",
    ),
    Case(
        "MedicationRequest?_include=MedicationRequest:requester:Practitioner",
        ("MedicationRequest/mr1", "MedicationRequest/mr2", "MedicationRequest/mr3", "MedicationRequest/mr4"),
        included=("Practitioner/pr1", "Practitioner/pr2", "Practitioner/pr3"),
        why="_include with a target type leaves out the Organization",
    ),
    Case(
        "Encounter?_id=enc1&_include=Encounter:subject",
        ("Encounter/enc1",),
        included=("Patient/p1",),
        why="_include without :iterate does not follow the included patient",
    ),
    Case(
        "Encounter?_id=enc1&_include=Encounter:subject&_include:iterate=Patient:organization",
        ("Encounter/enc1",),
        included=("Patient/p1", "Organization/org-hosp"),
        why=":iterate follows the included patient to its organization",
    ),
    Case(
        "Encounter?_id=enc2&_include=Encounter:service-provider&_include:iterate=Organization:partof",
        ("Encounter/enc2",),
        included=("Organization/org-clinic", "Organization/org-hosp", "Organization/org-root"),
        why=":iterate repeats over newly included resources up the partOf chain",
    ),
    Case(
        "Encounter?_id=enc4&_include=Encounter:participant",
        ("Encounter/enc4",),
        included=("Practitioner/pr1", "Practitioner/pr2"),
        why="_include of several references",
    ),
    Case(
        "Patient?_id=p1&_include=Patient:general-practitioner&_include=Patient:organization",
        ("Patient/p1",),
        included=("Practitioner/pr1", "Organization/org-hosp"),
        why="two _include parameters",
    ),
    Case(
        "Patient?_id=p6&_include=Patient:general-practitioner",
        ("Patient/p6",),
        included=("Organization/org-other",),
        why="_include of an Organization general practitioner",
    ),
    Case(
        "Organization?_id=org-clinic,org-hosp&_include=Organization:partof",
        ("Organization/org-clinic", "Organization/org-hosp"),
        included=("Organization/org-root",),
        why="a matching resource is not repeated as an include",
    ),
    Case(
        "Appointment?_id=appt1&_include=Appointment:actor",
        ("Appointment/appt1",),
        included=("Patient/p1", "Practitioner/pr1"),
        why="_include of all actors",
    ),
    Case(
        "Appointment?_id=appt1&_include=Appointment:patient",
        ("Appointment/appt1",),
        included=("Patient/p1",),
        why="_include through the patient parameter only",
    ),
    Case(
        "Patient?_id=p1&_revinclude=Observation:subject",
        ("Patient/p1",),
        included=P1_OBS,
        why="_revinclude the observations that refer to the patient",
    ),
    Case(
        "Patient?_id=p4&_revinclude=Condition:subject&_revinclude=Encounter:subject",
        ("Patient/p4",),
        included=("Condition/cond2", "Encounter/enc3"),
        why="two _revinclude parameters",
    ),
    Case(
        "Patient?_id=p5&_revinclude=Observation:subject",
        ("Patient/p5",),
        why="_revinclude with nothing to include",
    ),
    Case(
        "Patient?gender=female&_revinclude=Condition:subject",
        ("Patient/p2", "Patient/p3", "Patient/p8"),
        included=("Condition/cond3", "Condition/cond4"),
        why="_revinclude for several matches",
    ),
    Case(
        "Organization?_id=org-hosp&_revinclude=Patient:organization",
        ("Organization/org-hosp",),
        included=("Patient/p1", "Patient/p4"),
        why="_revinclude of patients",
    ),
    Case(
        "Practitioner?_id=pr1&_revinclude=Encounter:practitioner",
        ("Practitioner/pr1",),
        included=("Encounter/enc1", "Encounter/enc4"),
        why="_revinclude through practitioner",
    ),
    # =========================================================================================
    # _summary / _elements (search.html#summary, #elements)
    # =========================================================================================
    Case("Patient?_summary=count", (), total=9, why="_summary=count returns only the total"),
    Case("Observation?_summary=count", (), total=14, why="_summary=count over every Observation"),
    Case("Observation?code=8867-4&_summary=count", (), total=6, why="_summary=count with a filter"),
    Case("Condition?clinical-status=active&_summary=count", (), total=3, why="_summary=count"),
    Case("Patient?name=nobody&_summary=count", (), total=0, why="_summary=count with no match"),
    Case(
        "Patient?gender=female&_summary=true",
        ("Patient/p2", "Patient/p3", "Patient/p8"),
        why="_summary=true does not change which resources match",
    ),
    Case(
        "Patient?family=smith&_elements=name",
        ("Patient/p7", "Patient/p8"),
        why="_elements does not change which resources match",
    ),
    # =========================================================================================
    # errors and handling (search.html#errors, #modifiers): unknown parameters are ignored unless
    # handling=strict; an unsupported modifier, a chain on a non-reference or a malformed
    # value is refused with 400
    # =========================================================================================
    Case("Patient?foo=bar", ALL_PATIENTS, why="lenient by default: an unknown parameter is ignored"),
    Case(
        "Patient?gender=female&foo=bar",
        ("Patient/p2", "Patient/p3", "Patient/p8"),
        why="lenient: results as if the unknown parameter were absent",
    ),
    Case(
        "Patient?foo=bar", (), status=400, headers=STRICT, why="handling=strict refuses an unknown parameter"
    ),
    Case(
        "Patient?gender=female",
        ("Patient/p2", "Patient/p3", "Patient/p8"),
        headers=STRICT,
        why="handling=strict does not affect a valid search",
    ),
    Case("Patient?name:foo=x", (), status=400, why="an unknown modifier is refused"),
    Case("Patient?birthdate:exact=1980", (), status=400, why=":exact is not a modifier of date parameters"),
    Case("Patient?gender:contains=male", (), status=400, why=":contains is not a modifier of tokens"),
    Case("Observation?subject:Foo=p1", (), status=400, why="a type modifier naming no resource type"),
    Case("Patient?name.family=x", (), status=400, why="a chain on a string parameter"),
    Case("Patient?gender.name=x", (), status=400, why="a chain on a token parameter"),
    Case("Observation?date=2013-13", (), status=400, why="malformed date: month 13"),
    Case("Patient?birthdate=abc", (), status=400, why="malformed date"),
    Case("Patient?birthdate=1980-02-30", (), status=400, why="malformed date: 30 February"),
    Case("Patient?birthdate=zz1980", (), status=400, why="unknown prefix"),
    Case("Patient?_lastUpdated=yesterday", (), status=400, why="malformed _lastUpdated"),
    Case("Observation?value-quantity=xx70", (), status=400, why="unknown prefix on a quantity"),
    Case("Observation?value-quantity=abc", (), status=400, why="malformed number"),
]
