"""A search's parameters, understood: each one checked against the declared parameters (params.py) and
turned into a predicate that search_repository.py renders, plus the result controls (_sort, _count, _include,
_revinclude, _summary, _elements, _total).

Refusals are 400 OperationOutcomes naming the parameter; unknown parameters are ignored with a warning
unless the client asked `Prefer: handling=strict`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from zhiyi.fhir import params as declared
from zhiyi.fhir import values
from zhiyi.fhir.errors import FhirError, Issue, invalid, not_supported
from zhiyi.fhir.params import SearchParam

PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap")
MODIFIERS = {
    "string": {"exact", "contains", "missing"},
    "token": {"not", "text", "missing"},
    "date": {"missing"},
    "number": {"missing"},
    "quantity": {"missing"},
    "reference": {"missing"},  # and a resource type (subject:Patient)
    "uri": {"missing", "below"},
    "composite": set(),
}
CONTROLS = {
    "_count",
    "_sort",
    "_include",
    "_revinclude",
    "_summary",
    "_elements",
    "_total",
    "_format",
    "_pretty",
}
DEFAULT_COUNT, MAX_COUNT = 20, 1000
MAX_CHAIN = 2  # two levels (subject:Patient.organization.name), as the issue asks; deeper costs joins
_PREFIXED = re.compile(r"^(eq|ne|gt|lt|ge|le|sa|eb|ap)(?=[0-9+\-.])")


def split_values(raw: str, sep: str = ",") -> list[str]:
    """A parameter's values split at `sep`, honouring the spec's escapes (\\, \\$ \\|)."""
    return [_unescape(part) for part in _split_unescaped(raw, sep)]


def _split_unescaped(raw: str, sep: str) -> list[str]:
    """Split at unescaped `sep`, keeping the escapes for a later split."""
    parts, cur, i = [], [], 0
    while i < len(raw):
        if raw[i] == "\\" and i + 1 < len(raw):
            cur.append(raw[i : i + 2])
            i += 2
            continue
        if raw[i] == sep:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(raw[i])
        i += 1
    parts.append("".join(cur))
    return parts


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


# --- the predicates -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Value:
    """One value of a parameter, parsed for its type."""

    prefix: str = "eq"
    text: str | None = None  # string, token code/text, uri, reference
    system: str | None = None  # token or quantity system ("" = explicitly none)
    low: int | Decimal | None = None  # date (µs) or number bounds, inclusive low
    high: int | Decimal | None = None  # date: inclusive high; number: exclusive high
    number: Decimal | None = None
    rtype: str | None = None  # reference target type
    code: str | None = None  # quantity unit code


@dataclass(frozen=True, slots=True)
class Match:
    """`param` (on resource type `rtype`) has one of `values` (OR), under `modifier`."""

    rtype: str
    param: SearchParam
    modifier: str | None
    values: tuple[Value, ...]


@dataclass(frozen=True, slots=True)
class Chain:
    """The reference `param` points at a `target` resource (one of `targets`) matching `inner`."""

    rtype: str
    param: SearchParam
    targets: tuple[str, ...]
    inner: Match | Chain


@dataclass(frozen=True, slots=True)
class Has:
    """Some `source` resource refers to this one through `param` and matches `inner` (_has)."""

    source: str
    param: SearchParam
    inner: Match | Chain | Has


@dataclass(frozen=True, slots=True)
class Composite:
    """A composite parameter: the resource matches each component (one value per component, joined by $)."""

    param: SearchParam
    parts: tuple[tuple[Match, ...], ...]  # one tuple of component matches per comma-separated value


Predicate = Match | Chain | Has | Composite


@dataclass(frozen=True, slots=True)
class SortKey:
    param: SearchParam | None  # None: _id or _lastUpdated (columns)
    column: str | None
    descending: bool


@dataclass(frozen=True, slots=True)
class IncludeSpec:
    source: str
    param: SearchParam | None  # None: every reference parameter (`*`)
    target: str | None
    iterate: bool
    reverse: bool


@dataclass
class Query:
    rtype: str
    predicates: list[Predicate] = field(default_factory=list)
    ids: list[list[str]] = field(default_factory=list)  # _id, each list OR'ed
    last_updated: list[tuple[Value, ...]] = field(default_factory=list)
    sort: list[SortKey] = field(default_factory=list)
    count: int = DEFAULT_COUNT
    includes: list[IncludeSpec] = field(default_factory=list)
    summary_count: bool = False
    summary: str | None = None  # true, text or data (shaping.py)
    total_accurate: bool = False
    elements: tuple[str, ...] = ()
    warnings: list[str] = field(default_factory=list)
    understood: list[tuple[str, str]] = field(default_factory=list)

    def self_params(self) -> list[tuple[str, str]]:
        return list(self.understood)


def _bad(diagnostics: str, name: str) -> FhirError:
    return invalid(diagnostics, expression=name)


def parse(rtype: str, params: list[tuple[str, str]], *, strict: bool = False) -> Query:
    if rtype not in declared.declared_types():
        raise not_supported(f"Resource type {rtype} is not supported", status=404)
    query = Query(rtype)
    for name, raw in params:
        if name in ("_cursor",):
            continue
        try:
            handled = _control(query, name, raw)
            if not handled:
                handled = _criterion(query, name, raw, strict=strict)
        except ValueError as exc:
            raise _bad(f"{name}={raw}: {exc}", name) from exc
        if handled:
            query.understood.append((name, raw))
    return query


def _control(query: Query, name: str, raw: str) -> bool:
    base = name.split(":", 1)[0]
    if base not in CONTROLS:
        return False
    if base == "_count":
        if not raw.isdigit():
            raise ValueError("_count must be a whole number")
        query.count = min(int(raw), MAX_COUNT)
    elif base == "_sort":
        query.sort = [_sort_key(query.rtype, key) for key in raw.split(",") if key]
    elif base in ("_include", "_revinclude"):
        iterate = name.endswith(":iterate") or name.endswith(":recurse")
        query.includes.append(_include(raw, reverse=base == "_revinclude", iterate=iterate))
    elif base == "_summary":
        if raw == "count":
            query.summary_count = True
        elif raw in ("true", "text", "data"):
            query.summary = raw
        elif raw != "false":
            raise ValueError("_summary is one of true, text, data, count, false")
    elif base == "_total":
        query.total_accurate = raw == "accurate"
    elif base == "_elements":
        query.elements = tuple(e.strip() for e in raw.split(",") if e.strip())
    return True


def _sort_key(rtype: str, key: str) -> SortKey:
    descending = key.startswith("-")
    code = key[1:] if descending else key
    if code in ("_id", "_lastUpdated"):
        return SortKey(None, "id" if code == "_id" else "updated_at", descending)
    param = declared.find(rtype, code)
    if param is None or param.type in ("composite",):
        raise ValueError(f"cannot sort {rtype} by {code}")
    return SortKey(param, None, descending)


def _include(raw: str, *, reverse: bool, iterate: bool) -> IncludeSpec:
    parts = raw.split(":")
    if len(parts) not in (2, 3):
        raise ValueError("expected SourceType:parameter[:TargetType]")
    source, code = parts[0], parts[1]
    if source not in declared.declared_types():
        raise ValueError(f"unknown resource type {source}")
    if code == "*":
        return IncludeSpec(source, None, parts[2] if len(parts) == 3 else None, iterate, reverse)
    param = declared.find(source, code)
    if param is None or param.type != "reference":
        raise ValueError(f"{source}:{code} is not a reference parameter")
    target = parts[2] if len(parts) == 3 else None
    if target is not None and target not in declared.declared_types():
        raise ValueError(f"unknown resource type {target}")
    return IncludeSpec(source, param, target, iterate, reverse)


def _criterion(query: Query, name: str, raw: str, *, strict: bool) -> bool:
    rtype = query.rtype
    if name.startswith("_has:"):
        query.predicates.append(_has(rtype, name, raw))
        return True
    head, _, modifier = name.partition(":")
    if "." in name:
        query.predicates.append(_chain(rtype, name, raw, depth=1))
        return True
    if head == "_id":
        if modifier and modifier != "not":
            raise ValueError(f"modifier :{modifier} is not supported on _id")
        query.ids.append([_unescape(v) for v in split_values(raw) if v] + (["!not"] if modifier else []))
        return True
    if head == "_lastUpdated":
        if modifier:
            raise ValueError(f"modifier :{modifier} is not supported on _lastUpdated")
        query.last_updated.append(tuple(_date_value(v) for v in split_values(raw)))
        return True
    param = declared.find(rtype, head)
    if param is None:
        if strict:
            raise ValueError(f"{rtype} has no search parameter {head}")
        query.warnings.append(f"Unknown search parameter {name} of {rtype} was ignored")
        return False
    if param.type == "composite":
        query.predicates.append(_composite(rtype, param, raw))
        return True
    query.predicates.append(match(rtype, param, modifier or None, raw))
    return True


def match(rtype: str, param: SearchParam, modifier: str | None, raw: str) -> Match:
    allowed = MODIFIERS.get(param.type, set())
    if modifier and modifier not in allowed:
        if not (param.type == "reference" and modifier in declared.declared_types()):
            raise FhirError(
                400,
                [
                    Issue(
                        "not-supported",
                        f"Modifier :{modifier} is not supported on {param.code}",
                        expression=(param.code,),
                    )
                ],
            )
    if modifier == "missing":
        if raw not in ("true", "false"):
            raise ValueError(":missing takes true or false")
        return Match(rtype, param, modifier, (Value(text=raw),))
    parsed = tuple(_value(param, modifier, v) for v in split_values(raw) if v != "")
    if not parsed:
        raise ValueError("no value given")
    return Match(rtype, param, modifier, parsed)


def _value(param: SearchParam, modifier: str | None, raw: str) -> Value:
    kind = param.type
    if kind == "string":
        return Value(text=raw)
    if kind == "uri":
        return Value(text=raw)
    if kind == "token":
        if modifier == "text":
            return Value(text=values.fold(raw))
        if "|" in raw:
            system, code = raw.split("|", 1)
            return Value(text=code or None, system=system)
        return Value(text=raw)
    if kind == "date":
        return _date_value(raw)
    if kind == "number":
        prefix, number = _prefixed(raw)
        low, high = values.decimal_bounds(number)
        return Value(prefix=prefix, number=values.to_decimal(number), low=low, high=high)
    if kind == "quantity":
        head, *rest = raw.split("|")
        prefix, number = _prefixed(head)
        low, high = values.decimal_bounds(number)
        system = rest[0] if rest else None
        code = rest[1] if len(rest) > 1 else None
        if len(rest) > 2:
            raise ValueError("a quantity is number|system|code")
        return Value(
            prefix=prefix,
            number=values.to_decimal(number),
            low=low,
            high=high,
            system=system,
            code=code or None,
        )
    if kind == "reference":
        return _reference_value(param, modifier, raw)
    raise ValueError(f"parameters of type {kind} are not supported")


def _prefixed(raw: str) -> tuple[str, str]:
    found = _PREFIXED.match(raw)
    if found:
        return found.group(1), raw[2:]
    if len(raw) >= 2 and raw[:2].isalpha() and raw[:2] not in PREFIXES:
        raise ValueError(f"unknown prefix {raw[:2]}")
    return "eq", raw


def _date_value(raw: str) -> Value:
    prefix, text = _prefixed(raw)
    low, high = values.date_bounds(text)
    return Value(prefix=prefix, low=low, high=high, text=text)


def _reference_value(param: SearchParam, modifier: str | None, raw: str) -> Value:
    if "://" in raw or raw.startswith("urn:"):
        return Value(text=raw, system="url")
    rtype, _, rid = raw.rpartition("/")
    if "/_history/" in raw:
        rtype, rid = raw.split("/")[0], raw.split("/")[1]
    if rtype and rtype not in declared.declared_types() and rtype not in param.target:
        raise ValueError(f"unknown resource type {rtype}")
    if modifier and rtype and modifier != rtype:
        raise ValueError(f"{raw} is not a {modifier}")
    return Value(text=rid, rtype=rtype or modifier or None)


def _targets(rtype: str, param: SearchParam, modifier: str | None, chained: str) -> tuple[str, ...]:
    if param.type != "reference":
        raise ValueError(f"{param.code} is not a reference parameter and cannot be chained")
    if modifier:
        if modifier not in param.target:
            raise ValueError(f"{param.code} does not refer to {modifier}")
        candidates = (modifier,)
    else:
        candidates = tuple(t for t in param.target if t in declared.declared_types())
    found = tuple(t for t in candidates if declared.find(t, chained) is not None or chained.startswith("_"))
    if not found:
        raise ValueError(f"no target of {rtype}.{param.code} has a search parameter {chained}")
    return found


def _chain(rtype: str, name: str, raw: str, *, depth: int) -> Chain:
    link, rest = name.split(".", 1)
    if depth > MAX_CHAIN:
        raise ValueError(f"chains deeper than {MAX_CHAIN} levels are not supported")
    code, _, modifier = link.partition(":")
    param = declared.find(rtype, code)
    if param is None:
        raise ValueError(f"{rtype} has no search parameter {code}")
    next_code = rest.split(".", 1)[0].split(":", 1)[0]
    targets = _targets(rtype, param, modifier or None, next_code)
    inners = []
    for target in targets:
        if "." in rest:
            inners.append(_chain(target, rest, raw, depth=depth + 1))
        else:
            inners.append(_leaf(target, rest, raw))
    if len(targets) == 1:
        return Chain(rtype, param, targets, inners[0])
    return Chain(rtype, param, targets, AnyOf(tuple(inners)))  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class AnyOf:
    """Several target types of one chain link, each with its own inner predicate (OR)."""

    options: tuple


def _leaf(rtype: str, name: str, raw: str) -> Match:
    code, _, modifier = name.partition(":")
    if code == "_id":
        return Match(
            rtype,
            SearchParam("_id", "token", f"{rtype}.id"),
            None,
            tuple(Value(text=v) for v in split_values(raw)),
        )
    param = declared.find(rtype, code)
    if param is None:
        raise ValueError(f"{rtype} has no search parameter {code}")
    if param.type == "composite":
        raise ValueError("composite parameters cannot end a chain here")
    return match(rtype, param, modifier or None, raw)


def _has(rtype: str, name: str, raw: str) -> Has:
    # _has:Observation:patient:code=...  or nested _has:Observation:patient:_has:AuditEvent:entity:user=...
    parts = name.split(":", 3)
    if len(parts) < 4:
        raise ValueError("_has is _has:Type:reference:parameter")
    _, source, code, rest = parts
    if source not in declared.declared_types():
        raise ValueError(f"unknown resource type {source}")
    param = declared.find(source, code)
    if param is None or param.type != "reference":
        raise ValueError(f"{source}.{code} is not a reference parameter")
    if param.target and rtype not in param.target:
        raise ValueError(f"{source}.{code} does not refer to {rtype}")
    if rest.startswith("_has:"):
        inner: Match | Chain | Has = _has(source, rest, raw)
    elif "." in rest:
        inner = _chain(source, rest, raw, depth=1)
    else:
        inner = _leaf(source, rest, raw)
    return Has(source, param, inner)


def _composite(rtype: str, param: SearchParam, raw: str) -> Composite:
    if not param.components:
        raise ValueError(f"{param.code} has no components")
    parts = []
    for one in _split_unescaped(raw, ","):
        pieces = _split_unescaped(one, "$")
        if len(pieces) != len(param.components):
            raise ValueError(f"{param.code} takes {len(param.components)} values joined by $")
        matches = []
        for (definition, _expression), piece in zip(param.components, pieces, strict=True):
            component = declared.find(rtype, definition)  # the table names a component by its code
            if component is None:
                raise ValueError(f"component {definition} of {param.code} is not declared")
            matches.append(match(rtype, component, None, piece))
        parts.append(tuple(matches))
    return Composite(param, tuple(parts))
