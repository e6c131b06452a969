"""The search parameters Zhiyi declares: the spec's R4 definitions for the resource types it serves,
kept in data/search_parameters.json (written by scripts/fhir_search_parameters.py), viewed per type."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from zhiyi.fhir.paths import root_of, split_union

__all__ = ["SearchParam", "declared_types", "find", "for_type"]

TABLE = Path(__file__).parent / "data" / "search_parameters.json"
_ABSTRACT_BASES = frozenset({"Resource", "DomainResource"})


@dataclass(frozen=True, slots=True)
class SearchParam:
    """One search parameter as seen from one resource type: `expression` holds only the branches of
    the spec's union that start at that type (a Resource-level one is rooted at the type itself)."""

    code: str
    type: str
    expression: str
    target: tuple[str, ...] = ()
    # Composite only: (definition, expression) per component; definition is the component's code.
    components: tuple[tuple[str, str], ...] = ()


@functools.cache
def _rows() -> tuple[dict, ...]:
    return tuple(json.loads(TABLE.read_text(encoding="utf-8")))


@functools.cache
def declared_types() -> frozenset[str]:
    """The resource types Zhiyi serves (each has at least one declared parameter)."""
    return frozenset(base for row in _rows() for base in row["base"] if base not in _ABSTRACT_BASES)


def _branches_for(expression: str, resource_type: str, abstract: bool) -> str | None:
    picked = []
    for branch in split_union(expression):
        root = root_of(branch)
        if root == resource_type:
            picked.append(branch)
        elif abstract and root in _ABSTRACT_BASES:
            start = branch.index(root)
            picked.append(branch[:start] + resource_type + branch[start + len(root) :])
    return " | ".join(picked) or None


@functools.cache
def for_type(resource_type: str) -> Mapping[str, SearchParam]:
    """Every parameter declared on `resource_type`, Resource-level ones included, by code."""
    if resource_type not in declared_types():
        return MappingProxyType({})
    found: dict[str, SearchParam] = {}
    for row in _rows():
        abstract = any(base in _ABSTRACT_BASES for base in row["base"])
        if resource_type not in row["base"] and not abstract:
            continue
        expression = _branches_for(row["expression"], resource_type, abstract)
        if expression is None:
            continue
        found[row["code"]] = SearchParam(
            code=row["code"],
            type=row["type"],
            expression=expression,
            target=tuple(row["target"]),
            components=tuple((c["definition"], c["expression"]) for c in row.get("component", ())),
        )
    return MappingProxyType(dict(sorted(found.items())))


def find(resource_type: str, code: str) -> SearchParam | None:
    return for_type(resource_type).get(code)
