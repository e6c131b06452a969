"""Callers of the FHIR endpoint: a group-wide admin (the whole repository) and patients (their own
compartment)."""

from __future__ import annotations

import pytest

from tests.factories import identity, org, patients

FHIR_JSON = {"Content-Type": "application/fhir+json", "Accept": "application/fhir+json"}


@pytest.fixture
async def admin_headers(session) -> dict[str, str]:
    acct = await identity.account(session, username="fhir-admin", roles={"admin"}, group_wide=True)
    await session.commit()
    return {**FHIR_JSON, **await identity.bearer(session, acct)}


@pytest.fixture
async def patient_caller(session):
    """A patient's bearer headers and the FHIR id of their Patient (their own compartment)."""

    async def make(username: str):
        campus = await org.campus(session)
        person = await patients.patient(session, campus=campus)
        acct = await identity.account(session, username=username, roles={"patient"}, patient=person)
        await session.commit()
        return {**FHIR_JSON, **await identity.bearer(session, acct)}, str(person.id)

    return make
