"""The synthetic population of `zhiyi bench fhir`: deterministic (a seed and a patient's index give the
same Bundle every time, so the anchor rebuilds what the server was sent without keeping it).

One shared transaction Bundle of Organizations and Practitioners, PUT with their ids, comes first; then
one transaction Bundle per patient: the Patient and its Encounters, Conditions, Observations and
MedicationRequests, POSTed with `urn:uuid:` fullUrls and referring to each other by them, and to the
shared resources by `Organization/<id>` and `Practitioner/<id>`. Every resource is valid R4."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import dataclass

ORGANIZATIONS = 20
PRACTITIONERS = 50
MIN_PER_PATIENT = 5  # the Patient and one resource of each other kind

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
MRN = "urn:oid:2.16.840.1.113883.2.4.6.3"  # any stable system: the bench's medical record numbers
NPI = "http://hl7.org/fhir/sid/us-npi"

# (code, display, category, unit, low, high, decimals)
OBSERVATIONS = (
    ("8867-4", "Heart rate", "vital-signs", "/min", 52, 118, 0),
    ("8480-6", "Systolic blood pressure", "vital-signs", "mm[Hg]", 95, 175, 0),
    ("8462-4", "Diastolic blood pressure", "vital-signs", "mm[Hg]", 55, 105, 0),
    ("8310-5", "Body temperature", "vital-signs", "Cel", 35.8, 39.4, 1),
    ("9279-1", "Respiratory rate", "vital-signs", "/min", 11, 26, 0),
    ("2708-6", "Oxygen saturation in Arterial blood", "vital-signs", "%", 88, 100, 0),
    ("29463-7", "Body weight", "vital-signs", "kg", 38, 115, 1),
    ("8302-2", "Body height", "vital-signs", "cm", 145, 195, 1),
    ("39156-5", "Body mass index (BMI) [Ratio]", "vital-signs", "kg/m2", 16, 38, 1),
    ("2345-7", "Glucose [Mass/volume] in Serum or Plasma", "laboratory", "mg/dL", 65, 260, 0),
    ("2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "laboratory", "mg/dL", 0.5, 2.4, 2),
    ("718-7", "Hemoglobin [Mass/volume] in Blood", "laboratory", "g/dL", 9, 17.5, 1),
    ("6690-2", "Leukocytes [#/volume] in Blood by Automated count", "laboratory", "10*3/uL", 3, 14, 1),
    ("777-3", "Platelets [#/volume] in Blood by Automated count", "laboratory", "10*3/uL", 120, 420, 0),
    ("2093-3", "Cholesterol [Mass/volume] in Serum or Plasma", "laboratory", "mg/dL", 130, 290, 0),
    ("2571-8", "Triglyceride [Mass/volume] in Serum or Plasma", "laboratory", "mg/dL", 50, 380, 0),
    ("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "laboratory", "%", 4.6, 11.5, 1),
    ("2823-3", "Potassium [Moles/volume] in Serum or Plasma", "laboratory", "mmol/L", 3.2, 5.6, 1),
    ("2951-2", "Sodium [Moles/volume] in Serum or Plasma", "laboratory", "mmol/L", 131, 148, 0),
    ("1742-6", "Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma", "laboratory",
     "U/L", 8, 95, 0),
)  # fmt: skip
CONDITIONS = (
    (ICD10, "I10", "Essential (primary) hypertension"),
    (ICD10, "E11", "Type 2 diabetes mellitus"),
    (ICD10, "J45", "Asthma"),
    (ICD10, "J18.9", "Pneumonia, unspecified"),
    (ICD10, "K21.0", "Gastro-oesophageal reflux disease with oesophagitis"),
    (ICD10, "M54.5", "Low back pain"),
    (ICD10, "N39.0", "Urinary tract infection, site not specified"),
    (ICD10, "E78.5", "Hyperlipidaemia, unspecified"),
    (ICD10, "I25.1", "Atherosclerotic heart disease"),
    (ICD10, "J44.9", "Chronic obstructive pulmonary disease, unspecified"),
    (ICD10, "F32.9", "Depressive episode, unspecified"),
    (ICD10, "E03.9", "Hypothyroidism, unspecified"),
    (SNOMED, "38341003", "Hypertensive disorder"),
    (SNOMED, "44054006", "Diabetes mellitus type 2"),
    (SNOMED, "195967001", "Asthma"),
    (SNOMED, "233604007", "Pneumonia"),
    (SNOMED, "55822004", "Hyperlipidemia"),
    (SNOMED, "13645005", "Chronic obstructive lung disease"),
    (SNOMED, "49436004", "Atrial fibrillation"),
    (SNOMED, "40930008", "Hypothyroidism"),
)
MEDICATIONS = (
    ("314076", "lisinopril 10 MG Oral Tablet"),
    ("860975", "metformin hydrochloride 500 MG Oral Tablet"),
    ("617312", "atorvastatin 40 MG Oral Tablet"),
    ("197361", "amlodipine 5 MG Oral Tablet"),
    ("310965", "ibuprofen 200 MG Oral Tablet"),
    ("313782", "acetaminophen 325 MG Oral Tablet"),
    ("895994", "fluticasone propionate 0.044 MG/ACTUAT Inhaler"),
    ("308136", "amlodipine 2.5 MG Oral Tablet"),
    ("966247", "levothyroxine sodium 0.075 MG Oral Tablet"),
    ("312961", "simvastatin 20 MG Oral Tablet"),
    ("198211", "simvastatin 40 MG Oral Tablet"),
    ("855332", "warfarin sodium 5 MG Oral Tablet"),
)
ENCOUNTER_CLASSES = (("AMB", "ambulatory"), ("EMER", "emergency"), ("IMP", "inpatient encounter"))
ENCOUNTER_TYPES = (
    ("185349003", "Encounter for check up"),
    ("390906007", "Follow-up encounter"),
    ("50849002", "Emergency room admission"),
    ("183452005", "Emergency hospital admission"),
    ("439740005", "Postoperative follow-up visit"),
)
CN_FAMILIES = (
    ("王", "Wang"), ("李", "Li"), ("张", "Zhang"), ("刘", "Liu"), ("陈", "Chen"), ("杨", "Yang"),
    ("黄", "Huang"), ("赵", "Zhao"), ("吴", "Wu"), ("周", "Zhou"), ("徐", "Xu"), ("孙", "Sun"),
    ("马", "Ma"), ("朱", "Zhu"), ("胡", "Hu"), ("郭", "Guo"), ("何", "He"), ("高", "Gao"),
    ("林", "Lin"), ("罗", "Luo"), ("欧阳", "Ouyang"), ("司马", "Sima"),
)  # fmt: skip
CN_GIVEN = (
    ("伟", "Wei"), ("芳", "Fang"), ("娜", "Na"), ("秀英", "Xiuying"), ("敏", "Min"), ("静", "Jing"),
    ("丽", "Li"), ("强", "Qiang"), ("磊", "Lei"), ("军", "Jun"), ("洋", "Yang"), ("勇", "Yong"),
    ("艳", "Yan"), ("杰", "Jie"), ("娟", "Juan"), ("涛", "Tao"), ("明", "Ming"), ("超", "Chao"),
    ("秀兰", "Xiulan"), ("霞", "Xia"), ("平", "Ping"), ("建华", "Jianhua"), ("志强", "Zhiqiang"),
)  # fmt: skip
WEST_FAMILIES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson",
    "Martin", "Lee", "Thompson", "White", "Harris", "Clark", "Müller", "Schmidt", "Dubois", "Rossi",
)  # fmt: skip
WEST_GIVEN = (
    ("James", "male"), ("Mary", "female"), ("John", "male"), ("Patricia", "female"), ("Robert", "male"),
    ("Jennifer", "female"), ("Michael", "male"), ("Linda", "female"), ("William", "male"),
    ("Elizabeth", "female"), ("David", "male"), ("Barbara", "female"), ("Richard", "male"),
    ("Susan", "female"), ("Joseph", "male"), ("Jessica", "female"), ("Thomas", "male"), ("Sarah", "female"),
    ("Chloé", "female"), ("François", "male"),
)  # fmt: skip
CN_FEMALE = {"芳", "娜", "秀英", "静", "丽", "艳", "娟", "秀兰", "霞"}
FIRST_VISIT = dt.date(2016, 1, 1)
VISIT_DAYS = 3650  # encounters spread over ten years from FIRST_VISIT


@dataclass(frozen=True, slots=True)
class PatientFacts:
    """What the searches may ask about one patient, with answers that must exist."""

    index: int
    family: str  # a family name in the Patient's names (Chinese characters, pinyin or Western)
    observations: tuple[tuple[str, str], ...]  # (LOINC code, effective date YYYY-MM-DD), one per obs
    conditions: tuple[tuple[str, str], ...]  # (system, code), one per condition
    medications: int
    resources: int


def counts(per_patient: int) -> dict[str, int]:
    """How many resources of each kind one patient's Bundle holds (`per_patient` in all)."""
    if per_patient < MIN_PER_PATIENT:
        raise ValueError(f"--per-patient must be at least {MIN_PER_PATIENT}")
    rest = per_patient - 1
    encounters = max(1, round(rest * 0.10))
    conditions = max(1, round(rest * 0.15))
    medications = max(1, round(rest * 0.14))
    return {
        "Patient": 1,
        "Encounter": encounters,
        "Condition": conditions,
        "Observation": rest - encounters - conditions - medications,
        "MedicationRequest": medications,
    }


def organization_id(k: int) -> str:
    return f"bench-org-{k:03d}"


def practitioner_id(k: int) -> str:
    return f"bench-pract-{k:03d}"


def shared_bundle(seed: int) -> dict:
    """The Organizations and Practitioners, PUT with their ids."""
    rng = random.Random(f"shared-{seed}")
    entries = []
    for k in range(ORGANIZATIONS):
        city = rng.choice(("北京", "上海", "广州", "成都", "杭州", "Boston", "Lyon", "München"))
        org = {
            "resourceType": "Organization",
            "id": organization_id(k),
            "active": True,
            "identifier": [{"system": "urn:oid:1.2.156.112604", "value": f"ORG{seed:02d}{k:04d}"}],
            "type": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/organization-type",
                            "code": "prov",
                            "display": "Healthcare Provider",
                        }
                    ]
                }
            ],
            "name": f"{city}第{k + 1}医院" if rng.random() < 0.6 else f"{city} General Hospital {k + 1}",
            "address": [{"city": city, "country": "CN" if rng.random() < 0.6 else "US"}],
        }
        entries.append(_put(org))
    for k in range(PRACTITIONERS):
        name, gender = _person_name(rng)
        pract = {
            "resourceType": "Practitioner",
            "id": practitioner_id(k),
            "active": True,
            "identifier": [{"system": NPI, "value": f"{1000000000 + seed * 1000 + k}"}],
            "name": name,
            "gender": gender,
            "qualification": [{"code": {"text": rng.choice(("MD", "主任医师", "副主任医师", "RN"))}}],
        }
        entries.append(_put(pract))
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def _put(resource: dict) -> dict:
    rtype, rid = resource["resourceType"], resource["id"]
    return {
        "fullUrl": f"{rtype}/{rid}",
        "resource": resource,
        "request": {"method": "PUT", "url": f"{rtype}/{rid}"},
    }


def _person_name(rng: random.Random) -> tuple[list[dict], str]:
    """Names (Chinese with their pinyin, or Western) and the gender they suggest."""
    if rng.random() < 0.55:
        (fam, fam_py), (given, given_py) = rng.choice(CN_FAMILIES), rng.choice(CN_GIVEN)
        gender = "female" if given in CN_FEMALE else "male"
        return [
            {"use": "official", "text": fam + given, "family": fam, "given": [given]},
            {"use": "usual", "text": f"{fam_py} {given_py}", "family": fam_py, "given": [given_py]},
        ], gender
    fam = rng.choice(WEST_FAMILIES)
    given, gender = rng.choice(WEST_GIVEN)
    return [{"use": "official", "text": f"{given} {fam}", "family": fam, "given": [given]}], gender


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _ref(urn: str) -> dict:
    return {"reference": urn}


def _instant(day: dt.date, minute: int) -> str:
    at = dt.datetime.combine(day, dt.time(0, 0), tzinfo=dt.timezone(dt.timedelta(hours=8)))
    return (at + dt.timedelta(minutes=minute)).isoformat()


def patient_bundle(seed: int, index: int, per_patient: int = 100) -> tuple[dict, PatientFacts]:
    """Patient `index`'s transaction Bundle and what may be searched for in it."""
    n = counts(per_patient)
    rng = random.Random(f"patient-{seed}-{index}")
    patient_urn = "urn:uuid:" + _uuid(rng)
    names, gender = _person_name(rng)
    birth = dt.date(1935, 1, 1) + dt.timedelta(days=rng.randrange(75 * 365))
    patient = {
        "resourceType": "Patient",
        "identifier": [{"use": "usual", "system": MRN, "value": f"BENCH-{seed}-{index:07d}"}],
        "active": True,
        "name": names,
        "gender": gender,
        "birthDate": birth.isoformat(),
        "telecom": [{"system": "phone", "value": f"+86 138{rng.randrange(10**8):08d}", "use": "mobile"}],
        "address": [{"city": rng.choice(("北京", "上海", "Shenzhen", "Wuhan")), "country": "CN"}],
        "generalPractitioner": [
            {"reference": f"Practitioner/{practitioner_id(rng.randrange(PRACTITIONERS))}"}
        ],
        "managingOrganization": {
            "reference": f"Organization/{organization_id(rng.randrange(ORGANIZATIONS))}"
        },
    }
    entries = [_post(patient_urn, patient)]
    subject = _ref(patient_urn)
    visits = []  # (urn, day, first minute, practitioner id)
    for _ in range(n["Encounter"]):
        urn = "urn:uuid:" + _uuid(rng)
        day = FIRST_VISIT + dt.timedelta(days=rng.randrange(VISIT_DAYS))
        start = rng.randrange(8 * 60, 17 * 60)
        klass, klass_display = rng.choices(ENCOUNTER_CLASSES, weights=(8, 1, 1))[0]
        length = rng.randrange(15, 90) if klass != "IMP" else rng.randrange(2, 10) * 24 * 60
        pract = practitioner_id(rng.randrange(PRACTITIONERS))
        type_code, type_display = rng.choice(ENCOUNTER_TYPES)
        encounter = {
            "resourceType": "Encounter",
            "status": "finished",
            "class": {"system": ACT_CODE, "code": klass, "display": klass_display},
            "type": [{"coding": [{"system": SNOMED, "code": type_code, "display": type_display}]}],
            "subject": subject,
            "participant": [{"individual": {"reference": f"Practitioner/{pract}"}}],
            "period": {"start": _instant(day, start), "end": _instant(day, start + length)},
            "serviceProvider": {"reference": f"Organization/{organization_id(rng.randrange(ORGANIZATIONS))}"},
        }
        visits.append((urn, day, start, pract))
        entries.append(_post(urn, encounter))
    conditions = []
    for _ in range(n["Condition"]):
        urn_enc, day, start, _pract = rng.choice(visits)
        system, code, display = rng.choice(CONDITIONS)
        conditions.append((system, code))
        condition = {
            "resourceType": "Condition",
            "clinicalStatus": {"coding": [{"system": CLINICAL, "code": rng.choice(("active", "resolved"))}]},
            "verificationStatus": {"coding": [{"system": VERIFICATION, "code": "confirmed"}]},
            "category": [{"coding": [{"system": CONDITION_CATEGORY, "code": "encounter-diagnosis"}]}],
            "code": {"coding": [{"system": system, "code": code, "display": display}], "text": display},
            "subject": subject,
            "encounter": _ref(urn_enc),
            "onsetDateTime": _instant(day, start + 5),
            "recordedDate": day.isoformat(),
        }
        entries.append(_post("urn:uuid:" + _uuid(rng), condition))
    observations = []
    for _ in range(n["Observation"]):
        urn_enc, day, start, _pract = rng.choice(visits)
        code, display, category, unit, low, high, decimals = rng.choice(OBSERVATIONS)
        value = round(rng.uniform(low, high), decimals)
        observations.append((code, day.isoformat()))
        observation = {
            "resourceType": "Observation",
            "status": "final",
            "category": [{"coding": [{"system": OBS_CATEGORY, "code": category}]}],
            "code": {"coding": [{"system": LOINC, "code": code, "display": display}], "text": display},
            "subject": subject,
            "encounter": _ref(urn_enc),
            "effectiveDateTime": _instant(day, start + rng.randrange(1, 15)),
            "valueQuantity": {
                "value": int(value) if decimals == 0 else value,
                "unit": unit,
                "system": UCUM,
                "code": unit,
            },
        }
        entries.append(_post("urn:uuid:" + _uuid(rng), observation))
    for _ in range(n["MedicationRequest"]):
        urn_enc, day, start, pract = rng.choice(visits)
        code, display = rng.choice(MEDICATIONS)
        request = {
            "resourceType": "MedicationRequest",
            "status": rng.choice(("active", "completed", "stopped")),
            "intent": "order",
            "medicationCodeableConcept": {
                "coding": [{"system": RXNORM, "code": code, "display": display}],
                "text": display,
            },
            "subject": subject,
            "encounter": _ref(urn_enc),
            "authoredOn": _instant(day, start + 20),
            "requester": {"reference": f"Practitioner/{pract}"},
            "dosageInstruction": [
                {
                    "text": rng.choice(("1 tablet once daily", "1 tablet twice daily", "每日一次，每次一片")),
                    "timing": {"repeat": {"frequency": rng.choice((1, 2)), "period": 1, "periodUnit": "d"}},
                }
            ],
        }
        entries.append(_post("urn:uuid:" + _uuid(rng), request))
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": entries}
    facts = PatientFacts(
        index=index,
        family=rng.choice([name["family"] for name in names]),
        observations=tuple(observations),
        conditions=tuple(conditions),
        medications=n["MedicationRequest"],
        resources=len(entries),
    )
    return bundle, facts


def _post(urn: str, resource: dict) -> dict:
    return {
        "fullUrl": urn,
        "resource": resource,
        "request": {"method": "POST", "url": resource["resourceType"]},
    }


def resolved(bundle: dict) -> list[tuple[str, str, dict]]:
    """(type, id, resource) of each entry with its `urn:uuid:` references replaced by `Type/<id>` under
    ids made here, as a server would store them (the anchor inserts these)."""
    local = {}
    for entry in bundle["entry"]:
        rtype = entry["resource"]["resourceType"]
        rid = entry["resource"].get("id") or str(uuid.uuid4())
        local[entry["fullUrl"]] = f"{rtype}/{rid}"
    rows = []
    for entry in bundle["entry"]:
        resource = _replace(entry["resource"], local)
        rtype, rid = local[entry["fullUrl"]].split("/", 1)
        resource["id"] = rid
        rows.append((rtype, rid, resource))
    return rows


def _replace(value, local: dict[str, str]):
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key == "reference" and isinstance(item, str) and item in local:
                out[key] = local[item]
            else:
                out[key] = _replace(item, local)
        return out
    if isinstance(value, list):
        return [_replace(item, local) for item in value]
    return value
