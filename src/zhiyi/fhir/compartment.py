"""The Patient compartment (the spec's CompartmentDefinition/patient, kept as data/compartment_patient.json
and checked against it by a test): which resources belong to a patient, through which search parameters.

It decides what a patient's token may reach and what Patient/$everything returns. The store writes one
`_compartment` reference row per patient a resource belongs to, so both are one indexed look-up.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

COMPARTMENT_PARAM = "_compartment"


@cache
def patient_params() -> dict[str, frozenset[str]]:
    """Resource type -> the reference parameters that put it in a Patient's compartment."""
    raw = json.loads((Path(__file__).parent / "data" / "compartment_patient.json").read_text())
    return {rtype: frozenset(codes) for rtype, codes in raw.items()}


def patients_of(rtype: str, rid: str, references: list[tuple]) -> set[str]:
    """The Patients whose compartments hold this resource, from its reference index rows
    (param, target_type, target_id, url); a Patient is in its own."""
    through = patient_params().get(rtype, frozenset())
    found = {row[2] for row in references if row[0] in through and row[1] == "Patient" and row[2]}
    if rtype == "Patient":
        found.add(rid)
    return found
