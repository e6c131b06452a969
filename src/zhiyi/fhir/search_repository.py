"""A parsed search (search_query.Query) as SQL on the index tables, run a page at a time.

The criteria are conditions on the resource row (predicates_repository.py). A chain is measured first:
the rows it matches are listed in the statement when they are few, or, when many, intersected as whole
sets with the other plain criteria (see CHAIN_LISTED). Pages follow the sort key (keyset), so a page link
stays right while resources are written.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import and_, case, false, func, intersect, not_, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.fhir import cursors, store_repository
from zhiyi.fhir.models import FhirResource, IxReference
from zhiyi.fhir.predicates_repository import (
    EPOCH,
    TABLES,
    chain_set,
    date_condition,
    match_set,
    predicate,
    rows_of,
)
from zhiyi.fhir.search_query import Chain, IncludeSpec, Query, Value
from zhiyi.fhir.store_repository import Reach, Stored
from zhiyi.fhir.values import MAX_US, MIN_US

R = FhirResource.__table__
MAX_INCLUDED = 1000
# A chain (`subject:Patient.name=Li`) is the one criterion whose matches the planner cannot foresee: it
# sees a few names, not that each patient has sixty observations, and so checks every one of them for the
# other criteria in turn. Measured first, a chain of at most this many rows is listed in the statement
# (the planner then knows how many); a longer one is intersected, as whole sets, with the other plain
# criteria (hashed once each). The rows listed for all the chains of a search together are at most this
# many. docs/fhir.md gives the plans.
CHAIN_LISTED = 2000


# --- sorting and pages ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Key:
    expr: object
    descending: bool
    kind: str  # how the cursor holds it: str, int, decimal, datetime


def _sort_column(t, kind: str, descending: bool):
    if kind == "string":
        return t.c.folded, "str"
    if kind == "token":
        return t.c.code, "str"
    if kind == "date":
        return (t.c.high if descending else t.c.low), "int"
    if kind in ("number", "quantity"):
        return t.c.value, "decimal"
    if kind == "reference":
        return t.c.target_id, "str"
    return t.c.uri, "str"


def sort_keys(query: Query) -> list[_Key]:
    keys = []
    for key in query.sort:
        if key.column == "id":
            keys.append(_Key(R.c.id, key.descending, "str"))
            continue
        if key.column == "updated_at":
            keys.append(_Key(R.c.updated_at, key.descending, "datetime"))
            continue
        kind = key.param.type
        t = TABLES[kind].alias()
        column, how = _sort_column(t, kind, key.descending)
        pick = func.max(column) if key.descending else func.min(column)
        value = select(pick).where(*rows_of(t, query.rtype, key.param.code, R.c.pk)).scalar_subquery()
        # resources without the value sort last either way
        keys.append(_Key(case((value.is_(None), 1), else_=0), False, "int"))
        keys.append(_Key(value, key.descending, how))
    return keys


def _after(keys: list[_Key], values: list):
    """The keyset condition: strictly after the cursor's row in the sort order (pk breaks ties)."""
    exprs = [(k.expr, k.descending, v) for k, v in zip(keys, values, strict=False)]
    exprs.append((R.c.pk, False, values[-1]))
    ors = []
    for i, (expr, descending, value) in enumerate(exprs):
        equal_before = [e == v if v is not None else e.is_(None) for e, _, v in exprs[:i]]
        if value is None:  # NULL only in a sort value of a resource that has none: its flag orders it
            continue
        ors.append(and_(*equal_before, expr < value if descending else expr > value))
    return or_(*ors) if ors else false()


def _cursor_value(kind: str, value):
    if value is None:
        return None
    if kind == "datetime":
        return value.isoformat()
    if kind == "decimal":
        return str(value)
    return value


def _from_cursor(kind: str, value):
    if value is None:
        return None
    try:
        if kind == "datetime":
            return dt.datetime.fromisoformat(value)
        if kind == "decimal":
            return Decimal(value)
        if kind == "int":
            return int(value)
        return str(value)
    except (TypeError, ValueError):
        return None


async def where_of(session: AsyncSession, query: Query, reach: Reach | None) -> list:
    """`query`'s conditions on the resource row, within `reach`; its chains measured on `session` (once
    for a page, its count and its next page's link alike)."""
    where = [R.c.type == query.rtype, R.c.deleted.is_(False)]
    for ids in query.ids:
        negate = "!not" in ids
        chosen = R.c.id.in_([i for i in ids if i != "!not"])
        where.append(not_(chosen) if negate else chosen)
    for values in query.last_updated:
        options = []
        for v in values:
            low = R.c.updated_at
            lo_dt, hi_dt = _dt(v.low), _dt(v.high)
            options.append(date_condition(v.prefix, low, low, Value(prefix=v.prefix, low=lo_dt, high=hi_dt)))
        where.append(or_(*options))
    where.extend(await _criteria(session, query, reach))
    if reach is not None:
        where.append(store_repository.in_compartments(R.c.pk, reach, R.c.type))
    return where


async def _criteria(session: AsyncSession, query: Query, reach: Reach | None) -> list:
    """The predicates as conditions on R, each chain measured first (CHAIN_LISTED)."""
    conditions, long_chains, rest = [], [], []
    room = CHAIN_LISTED  # for all the chains of the search together: a statement's parameters are bounded
    for p in query.predicates:
        if not isinstance(p, Chain):
            rest.append(p)
            continue
        chain = chain_set(p, reach)
        found = list((await session.execute(chain.limit(room + 1))).scalars())
        if len(found) <= room:
            conditions.append(R.c.pk.in_(found))
            room -= len(found)
        else:
            long_chains.append(chain)
    if long_chains:
        plain = {id(p): match_set(p) for p in rest}
        sets = [*long_chains, *(s for s in plain.values() if s is not None)]
        rest = [p for p in rest if plain[id(p)] is None]
        conditions.append(R.c.pk.in_(intersect(*sets) if len(sets) > 1 else sets[0]))
    conditions.extend(predicate(p, R.c.pk, R.c.id, query.rtype, reach) for p in rest)
    return conditions


def _dt(us: int) -> dt.datetime:
    us = min(max(us, MIN_US), MAX_US)
    return EPOCH + dt.timedelta(microseconds=us)


@dataclass
class Page:
    matches: list[Stored]
    included: list[Stored]
    total: int | None
    next_cursor: str | None


async def _count(session: AsyncSession, where: list) -> int:
    return (await session.execute(select(func.count()).select_from(R).where(*where))).scalar_one()


async def ids(session: AsyncSession, query: Query, *, reach: Reach | None, limit: int) -> list[str]:
    where = await where_of(session, query, reach)
    rows = await session.execute(select(R.c.id).where(*where).order_by(R.c.pk).limit(limit))
    return list(rows.scalars())


def page_select(query: Query, where: list, *, cursor: str | None):
    """The statement of one page of the matches of `query` (its conditions `where`, from `where_of`), one
    row more to know whether a next page is: their pks and sort keys, after `cursor`'s position; and the
    sort keys. scripts/explain_fhir_search.py shows its plan."""
    keys = sort_keys(query)
    if cursor:
        raw = cursors.read(cursor, len(keys) + 1)
        if not isinstance(raw[-1], int):
            raise cursors.forged()
        values = [_from_cursor(k.kind, v) for k, v in zip(keys, raw, strict=False)] + [int(raw[-1])]
        where = [*where, _after(keys, values)]
    order = [k.expr.desc() if k.descending else k.expr.asc() for k in keys] + [R.c.pk.asc()]
    columns = [R.c.pk, *(k.expr.label(f"k{i}") for i, k in enumerate(keys))]
    return select(*columns).where(*where).order_by(*order).limit(query.count + 1), keys


async def _custom_plans(session: AsyncSession) -> None:
    """PostgreSQL plans a prepared statement for its values five times, then may keep one generic plan
    whose cost looked no worse. A search's cost hangs on its values (a patient's sixty observations, a
    code thousands share), and the generic plan made a third of the observation searches 2-3 times slower
    (docs/benchmarks.md); so a search is planned for its own values, for the rest of its transaction."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


async def run(session: AsyncSession, query: Query, *, reach: Reach | None, cursor: str | None) -> Page:
    await _custom_plans(session)
    where = await where_of(session, query, reach)
    if query.summary_count or query.count == 0:  # _count=0: only how many (what clients ask to count)
        return Page([], [], await _count(session, where), None)
    statement, keys = page_select(query, where, cursor=cursor)
    rows = (await session.execute(statement)).all()
    page_rows = rows[: query.count]
    loaded = await store_repository.load_current(session, [r.pk for r in page_rows])
    matches = [loaded[r.pk] for r in page_rows if r.pk in loaded]
    following = None
    if len(rows) > query.count and query.count > 0:
        last = page_rows[-1]
        following = cursors.write(
            [_cursor_value(k.kind, last[i + 1]) for i, k in enumerate(keys)] + [last.pk]
        )
    total = None
    if query.total_accurate:
        total = await _count(session, where)
    elif cursor is None and len(rows) <= query.count:
        total = len(rows)
    included = await _included(session, query, [r.pk for r in page_rows], matches, reach)
    return Page(matches, included, total, following)


# --- _include and _revinclude -----------------------------------------------------------------------------


async def _included(session, query: Query, pks: list[int], matches: list[Stored], reach) -> list[Stored]:
    if not query.includes or not matches:
        return []
    seen = {(m.type, m.id) for m in matches}
    frontier_pks, frontier = list(pks), list(matches)
    included: list[Stored] = []
    for round_ in range(4):  # :iterate follows at most this many hops
        specs = [s for s in query.includes if round_ == 0 or s.iterate]
        if not specs or not frontier:
            break
        found = await _follow(session, specs, frontier_pks, frontier, reach)
        fresh = [(pk, s) for pk, s in found if (s.type, s.id) not in seen]
        for _, s in fresh:
            seen.add((s.type, s.id))
        included.extend(s for _, s in fresh)
        frontier_pks, frontier = [pk for pk, _ in fresh], [s for _, s in fresh]
        if len(included) >= MAX_INCLUDED:
            break
    return included[:MAX_INCLUDED]


async def _follow(session, specs: list[IncludeSpec], pks: list[int], resources: list[Stored], reach):
    ref = IxReference.__table__
    target = R.alias()
    conditions = []
    for s in specs:
        if not s.reverse:
            on = [ref.c.res_pk.in_(pks), ref.c.type == s.source, ref.c.param != "_compartment"]
            if s.param is not None:
                on.append(ref.c.param == s.param.code)
            if s.target:
                on.append(ref.c.target_type == s.target)
            conditions.append(
                select(target.c.pk).where(
                    and_(*on), target.c.type == ref.c.target_type, target.c.id == ref.c.target_id
                )
            )
        else:
            keys = [(r.type, r.id) for r in resources]
            if s.param is None:
                continue
            targets = or_(*(and_(ref.c.target_type == t, ref.c.target_id == i) for t, i in keys))
            conditions.append(
                select(ref.c.res_pk).where(ref.c.type == s.source, ref.c.param == s.param.code, targets)
            )
    if not conditions:
        return []
    union = conditions[0].union(*conditions[1:]) if len(conditions) > 1 else conditions[0]
    chosen = select(union.subquery().c[0])
    query = select(R.c.pk).where(R.c.pk.in_(chosen), R.c.deleted.is_(False))
    if reach is not None:
        query = query.where(store_repository.in_compartments(R.c.pk, reach, R.c.type))
    found_pks = list((await session.execute(query.limit(MAX_INCLUDED))).scalars())
    loaded = await store_repository.load_current(session, found_pks)
    return [(pk, loaded[pk]) for pk in found_pks if pk in loaded]
