"""A parsed search (search_query.Query) as SQL on the index tables, run a page at a time.

Each predicate is an EXISTS on one index table, correlated with the resource row; a chain is an EXISTS on
the reference index whose target is a resource matching the inner predicate; `_has` the reverse. Pages
follow the sort key (keyset), so a page link stays right while resources are written.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from types import SimpleNamespace

from sqlalchemy import and_, case, exists, false, func, not_, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.fhir import cursors, store_repository
from zhiyi.fhir.models import (
    FhirResource,
    IxComposite,
    IxDate,
    IxNumber,
    IxQuantity,
    IxReference,
    IxString,
    IxToken,
    IxUri,
)
from zhiyi.fhir.search_query import AnyOf, Chain, Composite, Has, IncludeSpec, Match, Query, Value
from zhiyi.fhir.store_repository import Reach, Stored
from zhiyi.fhir.values import MAX_US, MIN_US, fold

R = FhirResource.__table__
TABLES = {
    "string": IxString.__table__,
    "token": IxToken.__table__,
    "date": IxDate.__table__,
    "reference": IxReference.__table__,
    "quantity": IxQuantity.__table__,
    "uri": IxUri.__table__,
    "number": IxNumber.__table__,
}
MAX_INCLUDED = 1000
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _date_condition(prefix: str, low, high, v: Value):
    pl, ph = v.low, v.high
    contained = and_(low >= pl, high <= ph)
    if prefix == "eq":
        return contained
    if prefix == "ne":
        return not_(contained)
    if prefix == "gt":
        return high > ph
    if prefix == "lt":
        return low < pl
    if prefix == "ge":
        return or_(high > ph, contained)
    if prefix == "le":
        return or_(low < pl, contained)
    if prefix == "sa":
        return low > ph
    if prefix == "eb":
        return high < pl
    # ap: overlaps the value widened by a tenth of its distance from now (at least a day)
    now_us = int((dt.datetime.now(dt.UTC) - EPOCH).total_seconds() * 1_000_000)
    slack = max(abs(now_us - pl) // 10, 86_400_000_000)
    return and_(low <= ph + slack, high >= pl - slack)


def _number_condition(column, v: Value):
    number, low, high = v.number, v.low, v.high
    return {
        "eq": and_(column >= low, column < high),
        "ne": or_(column < low, column >= high),
        "gt": column > number,
        "lt": column < number,
        "ge": column >= number,
        "le": column <= number,
        "sa": column > number,
        "eb": column < number,
        "ap": and_(column >= number - abs(number) / 10, column <= number + abs(number) / 10),
    }[v.prefix]


def _value_condition(t, kind: str, modifier: str | None, v: Value):
    if kind == "string":
        if modifier == "exact":
            return t.c.exact == v.text
        from_folded = _like(fold(v.text))
        pattern = f"%{from_folded}%" if modifier == "contains" else f"{from_folded}%"
        return t.c.folded.like(pattern, escape="\\")
    if kind == "token":
        if modifier == "text":
            return t.c.text.like(f"{_like(v.text)}%", escape="\\")
        parts = []
        if v.text is not None:
            parts.append(t.c.code == v.text)
        if v.system == "":
            parts.append(t.c.system.is_(None))
        elif v.system is not None:
            parts.append(t.c.system == v.system)
        return and_(*parts) if parts else true()
    if kind == "date":
        return _date_condition(v.prefix, t.c.low, t.c.high, v)
    if kind == "number":
        return _number_condition(t.c.value, v)
    if kind == "quantity":
        parts = [_number_condition(t.c.value, v)]
        if v.system:
            parts.append(t.c.system == v.system)
        if v.code:
            parts.append(or_(t.c.code == v.code, t.c.unit == v.code) if not v.system else t.c.code == v.code)
        return and_(*parts)
    if kind == "uri":
        if modifier == "below":
            return t.c.uri.like(f"{_like(v.text)}%", escape="\\")
        return t.c.uri == v.text
    if kind == "reference":
        if v.system == "url":
            return t.c.url == v.text
        parts = [t.c.target_id == v.text]
        if v.rtype:
            parts.append(t.c.target_type == v.rtype)
        return and_(*parts)
    raise ValueError(kind)


def _rows_of(t, rtype: str, code: str, pk):
    return [t.c.res_pk == pk, t.c.type == rtype, t.c.param == code]


def _match(m: Match, pk, rid):
    if m.param.code == "_id":
        return rid.in_([v.text for v in m.values])
    kind = m.param.type
    t = TABLES[kind].alias()
    base = _rows_of(t, m.rtype, m.param.code, pk)
    if m.modifier == "missing":
        present = exists().where(*base)
        return not_(present) if m.values[0].text == "true" else present
    if kind == "token" and m.modifier == "not":
        return not_(exists().where(*base, or_(*(_value_condition(t, kind, None, v) for v in m.values))))
    if kind == "reference" and m.modifier and m.modifier != "missing":
        base.append(t.c.target_type == m.modifier)
    return exists().where(*base, or_(*(_value_condition(t, kind, m.modifier, v) for v in m.values)))


class _Columns:
    """A composite row's columns under the names a plain index table's conditions use."""

    def __init__(self, **columns) -> None:
        self.c = SimpleNamespace(**columns)


def _composite(p: Composite, pk, rtype: str):
    t = IxComposite.__table__.alias()
    code = _Columns(code=t.c.code, system=t.c.system)
    value = _Columns(
        value=t.c.v_number,
        system=t.c.v_system,
        code=t.c.v_code,
        unit=t.c.v_unit,
        low=t.c.v_low,
        high=t.c.v_high,
        folded=t.c.v_text,
        exact=t.c.v_text,
        text=t.c.v_text,
    )
    options = []
    for first, second in p.parts:
        options.append(
            exists().where(
                *_rows_of(t, rtype, p.param.code, pk),
                or_(*(_value_condition(code, "token", None, v) for v in first.values)),
                or_(*(_value_condition(value, second.param.type, None, v) for v in second.values)),
            )
        )
    return or_(*options)


def _referrers(rtype: str, code: str, target: str, inner, reach: Reach | None):
    """The rows of `rtype` whose reference `code` points at a current `target` matching `inner` (a chain
    link), as a set to look the resource up in: the database starts from the far end's match (a name)
    and follows the reference index back, rather than testing every resource of `rtype` in turn."""
    ref = IxReference.__table__.alias()
    far = R.alias()
    return (
        select(ref.c.res_pk)
        .join(far, and_(far.c.type == target, far.c.id == ref.c.target_id))
        .where(
            ref.c.type == rtype,
            ref.c.param == code,
            ref.c.target_type == target,
            far.c.deleted.is_(False),
            predicate(inner, far.c.pk, far.c.id, target, reach),
            *_within(reach, far),  # a chain matches only on what the caller may reach at its far end
        )
    )


def _within(reach: Reach | None, row) -> list:
    return [] if reach is None else [store_repository.in_compartments(row.c.pk, reach, row.c.type)]


def predicate(p, pk, rid, rtype: str, reach: Reach | None):
    """`p` as a condition on the resource row (pk, id) of type `rtype`; the other resources it looks at
    (a chain's far end, `_has`'s referrers) only within `reach`."""
    if isinstance(p, Match):
        return _match(p, pk, rid)
    if isinstance(p, Chain):
        inners = p.inner.options if isinstance(p.inner, AnyOf) else (p.inner,)
        options = [
            pk.in_(_referrers(p.rtype, p.param.code, target, inner, reach))
            for target, inner in zip(p.targets, inners, strict=True)
        ]
        return or_(*options)
    if isinstance(p, AnyOf):
        return or_(*(predicate(o, pk, rid, rtype, reach) for o in p.options))
    if isinstance(p, Has):
        ref = IxReference.__table__.alias()
        src = R.alias()
        return exists().where(
            ref.c.type == p.source,
            ref.c.param == p.param.code,
            ref.c.target_id == rid,
            src.c.pk == ref.c.res_pk,
            src.c.deleted.is_(False),
            predicate(p.inner, src.c.pk, src.c.id, p.source, reach),
            ref.c.target_type == rtype,
            *_within(reach, src),
        )
    if isinstance(p, Composite):
        return _composite(p, pk, rtype)
    raise TypeError(p)


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


def _sort_keys(query: Query) -> list[_Key]:
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
        value = select(pick).where(*_rows_of(t, query.rtype, key.param.code, R.c.pk)).scalar_subquery()
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


def _where(query: Query, reach: Reach | None) -> list:
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
            options.append(_date_condition(v.prefix, low, low, Value(prefix=v.prefix, low=lo_dt, high=hi_dt)))
        where.append(or_(*options))
    for p in query.predicates:
        where.append(predicate(p, R.c.pk, R.c.id, query.rtype, reach))
    if reach is not None:
        where.append(store_repository.in_compartments(R.c.pk, reach, R.c.type))
    return where


def _dt(us: int) -> dt.datetime:
    us = min(max(us, MIN_US), MAX_US)
    return EPOCH + dt.timedelta(microseconds=us)


@dataclass
class Page:
    matches: list[Stored]
    included: list[Stored]
    total: int | None
    next_cursor: str | None


async def count(session: AsyncSession, query: Query, *, reach: Reach | None) -> int:
    return (
        await session.execute(select(func.count()).select_from(R).where(*_where(query, reach)))
    ).scalar_one()


async def ids(session: AsyncSession, query: Query, *, reach: Reach | None, limit: int) -> list[str]:
    rows = await session.execute(select(R.c.id).where(*_where(query, reach)).order_by(R.c.pk).limit(limit))
    return list(rows.scalars())


async def run(session: AsyncSession, query: Query, *, reach: Reach | None, cursor: str | None) -> Page:
    if query.summary_count or query.count == 0:  # _count=0: only how many (what clients ask to count)
        return Page([], [], await count(session, query, reach=reach), None)
    keys = _sort_keys(query)
    where = _where(query, reach)
    if cursor:
        raw = cursors.read(cursor, len(keys) + 1)
        if not isinstance(raw[-1], int):
            raise cursors.forged()
        values = [_from_cursor(k.kind, v) for k, v in zip(keys, raw, strict=False)] + [int(raw[-1])]
        where.append(_after(keys, values))
    order = [k.expr.desc() if k.descending else k.expr.asc() for k in keys] + [R.c.pk.asc()]
    columns = [R.c.pk, *(k.expr.label(f"k{i}") for i, k in enumerate(keys))]
    rows = (
        await session.execute(select(*columns).where(*where).order_by(*order).limit(query.count + 1))
    ).all()
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
        total = await count(session, query, reach=reach)
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
