"""The search index of one resource: every declared parameter of its type evaluated and turned into
the plain rows the store inserts (strings, tokens, dates, references, quantities, uris, numbers)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple

from zhiyi.fhir.params import declared_types, for_type
from zhiyi.fhir.paths import Extractor, Node, compile_path
from zhiyi.fhir.values import date_bounds, fold, parse_reference, period_bounds, to_decimal

__all__ = ["CompiledShare", "ResourceIndex", "compiled_share", "extractors", "index_resource"]

# Kept by the store as columns of the resource row, not as index rows.
STORED_AS_COLUMNS = frozenset({"_id", "_lastUpdated"})
INDEXED_TYPES = ("string", "token", "date", "reference", "quantity", "uri", "number")  # composite: later
MONEY_SYSTEM = "urn:iso:std:iso:4217"

_NAME_PARTS = ("family", "given", "prefix", "suffix", "text")
_ADDRESS_PARTS = ("line", "city", "district", "state", "postalCode", "country", "text")
_QUANTITY_TYPES = frozenset(
    {"Quantity", "SimpleQuantity", "Age", "Duration", "Distance", "Count", "MoneyQuantity"}
)


@dataclass(slots=True)
class ResourceIndex:
    """Index rows of one resource; the first item of every row is the parameter's code."""

    strings: list[tuple[str, str, str]] = field(default_factory=list)  # (param, folded, exact)
    tokens: list[tuple[str, str | None, str | None, str | None]] = field(
        default_factory=list
    )  # system, code, text
    dates: list[tuple[str, int, int]] = field(default_factory=list)  # inclusive µs UTC bounds
    references: list[tuple[str, str | None, str | None, str | None]] = field(
        default_factory=list
    )  # type, id, url
    quantities: list[tuple[str, Decimal, str | None, str | None, str | None]] = field(
        default_factory=list
    )  # value, system, code, unit
    uris: list[tuple[str, str]] = field(default_factory=list)
    numbers: list[tuple[str, Decimal]] = field(default_factory=list)
    # composites.py's: (param, system, code, v_system, v_code, v_number, v_unit, v_low, v_high, v_text)
    composites: list[tuple] = field(default_factory=list)


@functools.cache
def extractors(resource_type: str) -> tuple[tuple[str, str, Extractor], ...]:
    """(code, search type, extractor) of every parameter indexed for `resource_type`, compiled on first
    use."""
    return tuple(
        (code, param.type, compile_path(param.expression, resource_type))
        for code, param in for_type(resource_type).items()
        if code not in STORED_AS_COLUMNS and param.type in INDEXED_TYPES
    )


class CompiledShare(NamedTuple):
    compiled: int
    total: int
    fallbacks: tuple[tuple[str, str], ...]  # (resource type, code) evaluated by fhirpathpy


def compiled_share() -> CompiledShare:
    """How many indexed (type, parameter) pairs run compiled rather than through fhirpathpy."""
    pairs = [(t, code, ex.compiled) for t in sorted(declared_types()) for code, _, ex in extractors(t)]
    fallbacks = tuple((t, code) for t, code, compiled in pairs if not compiled)
    return CompiledShare(len(pairs) - len(fallbacks), len(pairs), fallbacks)


def index_resource(resource: dict) -> ResourceIndex:
    """The index rows of `resource`, a declared type's JSON. Values that cannot be read (a malformed
    date, a non-numeric quantity) are left out rather than failing the whole resource."""
    resource_type = resource.get("resourceType")
    if resource_type not in declared_types():
        raise ValueError(f"not a declared resource type: {resource_type!r}")
    index = ResourceIndex()
    for code, kind, extractor in extractors(resource_type):
        if extractor.heads is not None and extractor.heads.isdisjoint(resource):
            continue
        nodes = extractor.run(resource)
        if nodes:
            _ROWS[kind](index, code, nodes)
    for name in ResourceIndex.__slots__:
        rows = getattr(index, name)
        if len(rows) > 1:
            setattr(index, name, list(dict.fromkeys(rows)))
    return index


def _folded(text: Any) -> str | None:
    return fold(text) if isinstance(text, str) and text else None


def _add_strings(index: ResourceIndex, code: str, nodes: list[Node]) -> None:
    rows = index.strings
    for kind, value in nodes:
        if isinstance(value, str):
            texts: list[Any] = [value]
        elif kind == "HumanName" and isinstance(value, dict):
            texts = _parts(value, _NAME_PARTS)
        elif kind == "Address" and isinstance(value, dict):
            texts = _parts(value, _ADDRESS_PARTS)
        else:
            continue
        rows.extend((code, fold(text), text) for text in texts if isinstance(text, str) and text)


def _parts(value: dict, names: tuple[str, ...]) -> list[Any]:
    found: list[Any] = []
    for name in names:
        part = value.get(name)
        if isinstance(part, list):
            found.extend(part)
        elif part is not None:
            found.append(part)
    return found


def _add_tokens(index: ResourceIndex, code: str, nodes: list[Node]) -> None:
    rows = index.tokens
    for kind, value in nodes:
        if isinstance(value, bool):
            rows.append((code, None, "true" if value else "false", None))
        elif isinstance(value, str | int):
            rows.append((code, None, str(value), None))
        elif not isinstance(value, dict):
            continue
        elif kind == "CodeableConcept":
            text = _folded(value.get("text"))
            codings = [c for c in value.get("coding") or () if isinstance(c, dict)]
            for coding in codings:
                rows.append(
                    (code, coding.get("system"), coding.get("code"), text or _folded(coding.get("display")))
                )
            if not codings and text:
                rows.append((code, None, None, text))
        elif kind == "Coding":
            if value.get("system") or value.get("code") or value.get("display"):
                rows.append((code, value.get("system"), value.get("code"), _folded(value.get("display"))))
        elif kind == "Identifier":
            if value.get("system") or value.get("value"):
                kind_text = (value.get("type") or {}).get("text")
                rows.append((code, value.get("system"), value.get("value"), _folded(kind_text)))
        elif kind == "ContactPoint":
            if value.get("value"):
                rows.append((code, None, value["value"], None))


def _add_dates(index: ResourceIndex, code: str, nodes: list[Node]) -> None:
    rows = index.dates
    for kind, value in nodes:
        try:
            if isinstance(value, str):
                rows.append((code, *date_bounds(value)))
            elif kind == "Period" and isinstance(value, dict):
                if value.get("start") or value.get("end"):
                    rows.append((code, *period_bounds(value)))
            elif kind == "Timing" and isinstance(value, dict):
                events = [date_bounds(event) for event in value.get("event") or () if isinstance(event, str)]
                if events:
                    rows.append((code, min(low for low, _ in events), max(high for _, high in events)))
        except ValueError:
            continue


def _add_references(index: ResourceIndex, code: str, nodes: list[Node]) -> None:
    rows = index.references
    for _, value in nodes:
        if isinstance(value, dict):
            parsed = parse_reference(value.get("reference") or "")
            if parsed is not None:
                rows.append((code, *parsed))
        elif isinstance(value, str) and value and value[0] != "#":
            # canonical / uri: the version after "|" is not part of what it points at
            rows.append((code, None, None, value.split("|", 1)[0]))


def _add_quantities(index: ResourceIndex, code: str, nodes: list[Node]) -> None:
    rows = index.quantities
    for kind, value in nodes:
        if not isinstance(value, dict):
            continue
        if kind in _QUANTITY_TYPES:
            quantities = [value]
        elif kind == "Range":
            quantities = [q for q in (value.get("low"), value.get("high")) if isinstance(q, dict)]
        elif kind == "Money":
            if value.get("value") is not None:
                _append_quantity(rows, code, value["value"], MONEY_SYSTEM, value.get("currency"), None)
            continue
        else:
            continue
        for q in quantities:
            if q.get("value") is not None:
                _append_quantity(rows, code, q["value"], q.get("system"), q.get("code"), q.get("unit"))


def _append_quantity(rows: list, code: str, value: Any, system: Any, unit_code: Any, unit: Any) -> None:
    try:
        rows.append((code, to_decimal(value), system, unit_code, unit))
    except ValueError:
        pass


def _add_uris(index: ResourceIndex, code: str, nodes: list[Node]) -> None:
    index.uris.extend((code, value) for _, value in nodes if isinstance(value, str) and value)


def _add_numbers(index: ResourceIndex, code: str, nodes: list[Node]) -> None:
    for _, value in nodes:
        try:
            index.numbers.append((code, to_decimal(value)))
        except ValueError:
            continue


_ROWS: dict[str, Callable[[ResourceIndex, str, list[Node]], None]] = {
    "string": _add_strings,
    "token": _add_tokens,
    "date": _add_dates,
    "reference": _add_references,
    "quantity": _add_quantities,
    "uri": _add_uris,
    "number": _add_numbers,
}


def rows_for(search_type: str, code: str, nodes: list[Node]) -> ResourceIndex:
    """The index rows `nodes` give for a parameter of `search_type` (a composite's components)."""
    index = ResourceIndex()
    if nodes:
        _ROWS[search_type](index, code, nodes)
    return index
