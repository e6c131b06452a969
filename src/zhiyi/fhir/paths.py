"""FHIRPath of search parameters, compiled once into plain-Python extractors.

`compile_path(expression, resource_type)` turns the forms search parameters use (dotted paths over
arrays, `|` unions, `as`/`ofType` casts on choice elements, `where(resolve() is T)` on references and
`where(field='literal')`) into a function `(resource) -> list[Node]`; anything else is evaluated by
fhirpathpy with its R4 model. A Node is `(fhir_type, value)`: the FHIR data type name of the JSON value
reached ("dateTime", "CodeableConcept", "Reference", ...; "BackboneElement" for unnamed structures).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import fhirpathpy
from fhirpathpy.engine.nodes import FP_DateTime, FP_Quantity, FP_Time, ResourceNode
from fhirpathpy.models import models as fhirpath_models

from zhiyi.fhir.values import parse_reference

__all__ = [
    "FHIRPATH_OPTIONS",
    "R4_MODEL",
    "Extractor",
    "Node",
    "compile_path",
    "reference_type",
    "root_of",
    "split_union",
]

log = logging.getLogger(__name__)

Node = tuple[str, Any]

R4_MODEL: dict = fhirpath_models["r4"]
_PATH_TYPE: dict[str, str] = R4_MODEL["path2Type"]
_CHOICES: dict[str, list[str]] = R4_MODEL["choiceTypePaths"]
_ELSEWHERE: dict[str, str] = R4_MODEL["pathsDefinedElsewhere"]
_PARENT: dict[str, str] = R4_MODEL["type2Parent"]
# Paths of unnamed (backbone) elements: every proper prefix of a path the model knows.
_BACKBONES = frozenset(path[:i] for path in _PATH_TYPE for i, ch in enumerate(path) if ch == ".")


def reference_type(reference: Any) -> str | None:
    """The resource type a Reference points at, from its `type` or its `reference` ("Patient/1")."""
    if not isinstance(reference, dict):
        return None
    if kind := reference.get("type"):
        return kind
    parsed = parse_reference(reference.get("reference") or "")
    return parsed[0] if parsed else None


def _resolve_fn(inputs: list) -> list:
    # resolve() without a store: a stub of the referenced type, enough for `resolve() is T`.
    return [
        ResourceNode.create_node({"resourceType": kind}) for ref in inputs if (kind := reference_type(ref))
    ]


FHIRPATH_OPTIONS: dict = {
    "userInvocationTable": {"resolve": {"fn": _resolve_fn, "arity": {0: []}}},
    "returnRawData": True,
}
"""fhirpathpy options for evaluating search expressions: resolve() by reference type, raw nodes out."""


# --- syntax ---------------------------------------------------------------------------------------


def _scan(text: str, separator: str) -> list[str]:
    """Split at `separator` outside parentheses and quoted strings."""
    parts, depth, quote, start = [], 0, False, 0
    for i, ch in enumerate(text):
        if ch == "'" and (i == 0 or text[i - 1] != "\\"):
            quote = not quote
        elif quote:
            continue
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == separator and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return parts


def split_union(expression: str) -> list[str]:
    """The top-level branches of a FHIRPath union `A | B | C`."""
    return [part for part in _scan(expression, "|") if part]


def root_of(branch: str) -> str:
    """The identifier a branch starts from ("Observation" in "(Observation.value as Quantity)")."""
    match = re.match(r"[\s(]*([A-Za-z_]\w*)", branch)
    return match.group(1) if match else ""


_AS_RE = re.compile(r"(.+)\s+as\s+([A-Za-z]\w*)", re.S)
_CAST_RE = re.compile(r"(?:as|ofType)\(\s*([A-Za-z]\w*)\s*\)")
_RESOLVE_RE = re.compile(r"where\(\s*resolve\(\)\s+is\s+([A-Z]\w*)\s*\)")
_EQUALS_RE = re.compile(r"where\(\s*([a-z]\w*)\s*=\s*'([^'\\]*)'\s*\)")
_NAME_RE = re.compile(r"[A-Za-z_]\w*")


def _normalise(branch: str) -> str | None:
    """`(X as T).rest` -> `X.as(T).rest`; None when the branch has another shape."""
    if not branch.startswith("("):
        return branch
    depth = 0
    for i, ch in enumerate(branch):
        depth += ch == "("
        depth -= ch == ")"
        if depth == 0:
            inner, rest = branch[1:i].strip(), branch[i + 1 :].strip()
            break
    else:
        return None
    if rest and not rest.startswith("."):
        return None
    if match := _AS_RE.fullmatch(inner):
        inner = f"{match.group(1).strip()}.as({match.group(2)})"
    return _normalise(inner) and inner + rest


# --- the model ------------------------------------------------------------------------------------


def _is_a(label: str, kind: str) -> bool:
    while label:
        if label == kind:
            return True
        label = _PARENT.get(label)
    return False


def _public_type(label: str) -> str:
    if "." in label:
        return "BackboneElement"
    return label[len("System.") :].lower() if label.startswith("System.") else label


def _children(context: str, name: str) -> list[tuple[str, str]] | None:
    """The JSON keys and node labels of element `name` under a node labelled `context` (a type name,
    or the path of a backbone element); None when the model does not know the element."""
    while context:
        path = f"{context}.{name}"
        if path in _CHOICES:
            found = []
            for suffix in _CHOICES[path]:
                kind = _PATH_TYPE.get(path + suffix) or suffix
                found.append((name + suffix, _public_type(kind)))
            return found
        if kind := _PATH_TYPE.get(path):
            return [(name, _public_type(kind))]
        if path in _ELSEWHERE:
            return [(name, _ELSEWHERE[path])]
        if path in _BACKBONES:
            return [(name, path)]
        context = _PARENT.get(context) if "." not in context else None
    return None


# --- compiled forms -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Extractor:
    """A compiled expression: call it (or its `run`) with a resource dict to get its Nodes."""

    expression: str
    resource_type: str
    compiled: bool  # False: evaluated by fhirpathpy
    run: Callable[[dict], list[Node]]
    # The top-level JSON keys a compiled extractor reads: a resource with none of them yields nothing.
    heads: frozenset[str] | None = None

    def __call__(self, resource: dict) -> list[Node]:
        return self.run(resource)


def _plan(branch: str, resource_type: str) -> tuple[list[tuple[str, Any]], list[str]] | None:
    """Steps of one branch and the labels its results can have, or None when it needs fhirpathpy.
    Each step: ("keys", {label: [(json key, label), ...]}) or ("filter", predicate)."""
    normal = _normalise(branch)
    if normal is None:
        return None
    parts = _scan(normal, ".")
    if parts[0] != resource_type:
        return None
    labels = [resource_type]
    steps: list[tuple[str, Any]] = []
    for part in parts[1:]:
        if _NAME_RE.fullmatch(part):
            table = {}
            for label in labels:
                found = _children(label, part)
                if found is None:
                    return None
                table[label] = found
            steps.append(("keys", table))
            labels = list(dict.fromkeys(out for found in table.values() for _, out in found))
        elif match := _CAST_RE.fullmatch(part):
            kind = match.group(1)
            if not steps or steps[-1][0] != "keys":
                return None
            table = {
                label: [(k, o) for k, o in found if _is_a(o, kind)] for label, found in steps[-1][1].items()
            }
            steps[-1] = ("keys", table)
            labels = [label for label in labels if _is_a(label, kind)]
        elif match := _RESOLVE_RE.fullmatch(part):
            steps.append(("filter", _points_to(match.group(1))))
        elif match := _EQUALS_RE.fullmatch(part):
            steps.append(("filter", _field_equals(match.group(1), match.group(2))))
        else:
            return None
    return steps, labels


def _points_to(kind: str) -> Callable[[Any], bool]:
    return lambda value: reference_type(value) == kind


def _field_equals(field: str, literal: str) -> Callable[[Any], bool]:
    return lambda value: value.__class__ is dict and value.get(field) == literal


def _static_runner(steps: list[tuple[str, Any]], label: str) -> Callable[[dict], list[Node]]:
    """A branch whose every step has one key: no labels to carry until the end."""
    ops = []
    for kind, arg in steps:
        if kind == "keys":
            ((found,),) = arg.values()
            ops.append((True, found[0]))
        else:
            ops.append((False, arg))
    fhir_type = _public_type(label)
    if len(ops) == 1 and ops[0][0]:
        return _one_key_runner(ops[0][1], fhir_type)

    def run(resource: dict) -> list[Node]:
        current = [resource]
        for is_key, arg in ops:
            if is_key:
                following = []
                for value in current:
                    if value.__class__ is dict:
                        child = value.get(arg)
                        if child is not None:
                            if child.__class__ is list:
                                following.extend(child)
                            else:
                                following.append(child)
                current = following
            else:
                current = [value for value in current if arg(value)]
            if not current:
                return []
        return [(fhir_type, value) for value in current if value is not None]

    return run


def _one_key_runner(key: str, fhir_type: str) -> Callable[[dict], list[Node]]:
    """The commonest branch, `Type.element`."""

    def run(resource: dict) -> list[Node]:
        child = resource.get(key)
        if child is None:
            return []
        if child.__class__ is list:
            return [(fhir_type, value) for value in child if value is not None]
        return [(fhir_type, child)]

    return run


def _typed_runner(steps: list[tuple[str, Any]], root: str) -> Callable[[dict], list[Node]]:
    """A branch that fans out over choice types: each value carries its label."""

    def run(resource: dict) -> list[Node]:
        current: list[tuple[str, Any]] = [(root, resource)]
        for kind, arg in steps:
            following: list[tuple[str, Any]] = []
            if kind == "keys":
                for label, value in current:
                    if value.__class__ is not dict:
                        continue
                    for key, out in arg.get(label, ()):
                        child = value.get(key)
                        if child is None:
                            continue
                        if child.__class__ is list:
                            following.extend((out, item) for item in child if item is not None)
                        else:
                            following.append((out, child))
            else:
                following = [(label, value) for label, value in current if arg(value)]
            current = following
            if not current:
                return []
        return [(_public_type(label), value) for label, value in current]

    return run


_Runner = Callable[[dict], list[Node]]


def _compile_branch(branch: str, resource_type: str) -> tuple[_Runner, frozenset[str]] | None:
    """The runner of one branch and the top-level keys it starts from; None when it needs fhirpathpy."""
    planned = _plan(branch, resource_type)
    if planned is None:
        return None
    steps, labels = planned
    if not labels:
        return (lambda resource: []), frozenset()
    if not steps:
        return (lambda resource: [(resource_type, resource)]), frozenset()
    if steps[0][0] != "keys":
        return None
    heads = frozenset(key for found in steps[0][1].values() for key, _ in found)
    static = all(
        kind != "keys" or (len(arg) == 1 and len(next(iter(arg.values()))) == 1) for kind, arg in steps
    )
    if static:
        return _static_runner(steps, labels[0]), heads
    return _typed_runner(steps, resource_type), heads


_EXISTS_NOT_FALSE_RE = re.compile(r"(\S+)\.exists\(\) and \1 != false")


def _exists_not_false(expression: str, resource_type: str) -> Extractor | None:
    """`X.exists() and X != false` (Patient's deceased): one boolean, true when X is there and not false."""
    match = _EXISTS_NOT_FALSE_RE.fullmatch(expression.strip())
    inner = match and _compile_branch(match.group(1), resource_type)
    if not inner:
        return None
    run_inner = inner[0]

    def run(resource: dict) -> list[Node]:
        found = run_inner(resource)
        return [("boolean", bool(found) and not (len(found) == 1 and found[0][1] is False))]

    return Extractor(expression, resource_type, True, run)


def compile_path(expression: str, resource_type: str) -> Extractor:
    """An extractor of `expression` for resources of `resource_type` (compile once, call often)."""
    if special := _exists_not_false(expression, resource_type):
        return special
    branches = [_compile_branch(branch, resource_type) for branch in split_union(expression)]
    if not branches or any(branch is None for branch in branches):
        return Extractor(expression, resource_type, False, _fallback(expression))
    runners = [runner for runner, _ in branches]
    # A root-only branch ("Observation") reads the whole resource: no head keys to check.
    heads = (
        None if any(not keys for _, keys in branches) else frozenset().union(*(keys for _, keys in branches))
    )
    if len(runners) == 1:
        return Extractor(expression, resource_type, True, runners[0], heads)

    def union(resource: dict) -> list[Node]:
        found: list[Node] = []
        for runner in runners:
            found.extend(runner(resource))
        return found

    return Extractor(expression, resource_type, True, union, heads)


# --- fhirpathpy for the rest ----------------------------------------------------------------------


def _fallback(expression: str) -> Callable[[dict], list[Node]]:
    evaluate = fhirpathpy.compile(expression, model=R4_MODEL, options=FHIRPATH_OPTIONS)

    def run(resource: dict) -> list[Node]:
        try:
            found = evaluate(resource)
        except Exception:  # fhirpathpy raises bare Exceptions; one bad value must not stop indexing
            log.warning(
                "FHIRPath %r failed on %s/%s", expression, resource.get("resourceType"), resource.get("id")
            )
            return []
        return [node for item in found if (node := to_node(item)) is not None]

    return run


def to_node(item: Any) -> Node | None:
    """A fhirpathpy result (raw ResourceNode or a System value) as a Node; None for empty values."""
    if isinstance(item, ResourceNode):
        if item.data is None:
            return None
        return _public_type(item.path or "Element"), item.data
    if isinstance(item, bool):
        return "boolean", item
    if isinstance(item, int):
        return "integer", item
    if isinstance(item, float | Decimal):
        return "decimal", item
    if isinstance(item, str):
        return "string", item
    if isinstance(item, FP_DateTime):
        return "dateTime", str(item)
    if isinstance(item, FP_Time):
        return "time", str(item)
    if isinstance(item, FP_Quantity):
        return "Quantity", {"value": item.value, "unit": item.unit}
    if isinstance(item, dict):
        return "Element", item
    return None
