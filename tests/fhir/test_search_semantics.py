"""The search-semantics table (tests/fhir/search_cases.py: a world and its cases, worked out from the R4
specification) on both databases: each case is a search and the ids it must find."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from tests.fhir import search_cases
from zhiyi.fhir import store
from zhiyi.fhir.access import Access
from zhiyi.fhir.errors import FhirError

WHOLE = Access(None, None)


@pytest.fixture(scope="module")
async def world(engine):
    """The cases' world, written once per database in a transaction rolled back after the module."""
    async with engine.connect() as conn:
        trans = await conn.begin()
        try:
            maker = async_sessionmaker(
                bind=conn, expire_on_commit=False, join_transaction_mode="create_savepoint"
            )
            async with maker() as session:
                for resource in search_cases.FIXTURE:
                    await store.update(session, WHOLE, resource["resourceType"], resource["id"], resource)
                await session.flush()
                yield session
        finally:
            await trans.rollback()


def _names(resources) -> list[str]:
    return [f"{r.type}/{r.id}" for r in resources]


@pytest.mark.parametrize("case", search_cases.CASES, ids=[c.query for c in search_cases.CASES])
async def test_search_case(world, case):
    rtype, _, query = case.query.partition("?")
    params = parse_qsl(query, keep_blank_values=True)
    strict = any(k.lower() == "prefer" and "handling=strict" in v for k, v in case.headers)
    if case.status != 200:
        with pytest.raises(FhirError) as refused:
            await store.search(world, WHOLE, rtype, params, strict=strict)
        assert refused.value.status == case.status, case.why
        return
    found = await store.search(world, WHOLE, rtype, params, strict=strict)
    if case.total is not None:
        assert found.total == case.total, case.why
    if case.ordered:
        assert _names(found.matches) == list(case.expected), case.why
    else:
        assert sorted(_names(found.matches)) == sorted(case.expected), case.why
    assert sorted(_names(found.included)) == sorted(case.included), case.why
