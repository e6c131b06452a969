"""A parsed search's criteria (search_query.py) as SQL conditions on the index tables.

Each criterion is an EXISTS on one index table, correlated with the resource row; a chain is a set of the
rows whose reference points at a resource matching the inner criterion (followed back from that far end);
`_has` the reverse. search_repository.py puts them together into a page's statement.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from sqlalchemy import and_, exists, not_, or_, select, true, union

from zhiyi.fhir import store_repository
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
from zhiyi.fhir.search_query import AnyOf, Chain, Composite, Has, Match, Value
from zhiyi.fhir.store_repository import Reach
from zhiyi.fhir.values import fold

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
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def date_condition(prefix: str, low, high, v: Value):
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
        return date_condition(v.prefix, t.c.low, t.c.high, v)
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


def rows_of(t, rtype: str, code: str, pk):
    return [t.c.res_pk == pk, t.c.type == rtype, t.c.param == code]


def _match(m: Match, pk, rid):
    if m.param.code == "_id":
        return rid.in_([v.text for v in m.values])
    kind = m.param.type
    t = TABLES[kind].alias()
    base = rows_of(t, m.rtype, m.param.code, pk)
    if m.modifier == "missing":
        present = exists().where(*base)
        return not_(present) if m.values[0].text == "true" else present
    if kind == "token" and m.modifier == "not":
        return not_(exists().where(*base, or_(*(_value_condition(t, kind, None, v) for v in m.values))))
    return exists().where(t.c.res_pk == pk, *_holds(t, m))


def _holds(t, m: Match) -> list:
    """Plain criterion `m` as conditions on the rows of its index table `t` (whichever resource's)."""
    kind = m.param.type
    parts = [t.c.type == m.rtype, t.c.param == m.param.code]
    if kind == "reference" and m.modifier:
        parts.append(t.c.target_type == m.modifier)
    parts.append(or_(*(_value_condition(t, kind, m.modifier, v) for v in m.values)))
    return parts


def match_set(p):
    """The pks of the resources that plain criterion `p` holds for, as a set of their own (not correlated
    with a resource row); None for what is not one index look-up (_id, :missing, :not, a chain...)."""
    if not isinstance(p, Match) or p.param.code == "_id" or p.modifier in ("missing", "not"):
        return None
    t = TABLES[p.param.type].alias()
    return select(t.c.res_pk).where(*_holds(t, p))


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
                *rows_of(t, rtype, p.param.code, pk),
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


def chain_set(p: Chain, reach: Reach | None):
    """The pks of the rows chain `p` matches, as one set (over its possible targets)."""
    inners = p.inner.options if isinstance(p.inner, AnyOf) else (p.inner,)
    sets = [
        _referrers(p.rtype, p.param.code, target, inner, reach)
        for target, inner in zip(p.targets, inners, strict=True)
    ]
    if len(sets) == 1:
        return sets[0]
    either = union(*sets).subquery()  # a compound set stands alone: SQLite takes no UNION inside INTERSECT
    return select(either.c.res_pk)


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
