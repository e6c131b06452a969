"""FHIR R4 (4.0.1): the clinical data repository and its REST interactions, transport-free; knows no
domain table."""
