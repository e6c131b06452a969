"""The search-semantics table (tests/fhir/search_cases.py: a world and its cases, worked out from the R4
specification) on both databases: each case is a search and the ids it must find."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from tests.fhir import search_cases
from zhiyi.fhir import search_repository, store
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
    await _check(world, case)


CHAINED = [
    c
    for c in search_cases.CASES
    if c.status == 200 and any("." in name for name, _ in parse_qsl(c.query.partition("?")[2]))
]


@pytest.mark.parametrize("room", [0, 3], ids=["every chain long", "room for 3 listed rows"])
@pytest.mark.parametrize("case", CHAINED, ids=[c.query for c in CHAINED])
async def test_a_long_chain_finds_the_same(world, case, room, monkeypatch):
    """A chain matching more rows than there is room to list (CHAIN_LISTED, for all the search's chains)
    is intersected as a set with the other criteria: with no room every chain is long; with room for
    three rows a search's short chain is listed and the next may be long. Each case finds the same."""
    monkeypatch.setattr(search_repository, "CHAIN_LISTED", room)
    await _check(world, case)


async def _check(world, case):
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


async def test_a_search_is_planned_for_its_own_values(world):
    """PostgreSQL may keep a generic plan for a statement run five times; a search's transaction asks for
    plans made for its values (search_repository._custom_plans)."""
    if world.get_bind().dialect.name != "postgresql":
        pytest.skip("plan caching is PostgreSQL's")
    await store.search(world, WHOLE, "Observation", [("code", "8867-4")])
    assert (await world.execute(text("SHOW plan_cache_mode"))).scalar() == "force_custom_plan"
