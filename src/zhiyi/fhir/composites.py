"""Composite search parameters (Observation's code-value-*, component-*, combo-*): one index row per
element that carries both parts, so `component-code-value-quantity=8480-6$gt130` asks one component for
both its code and its value (two rows in the plain indexes could pair one component's code with
another's value).

R4's composites are all of this shape: a base (`Observation`, `Observation.component`, or both) whose
elements have a `code` and a `value[x]`; the second component names the value's type.
"""

from __future__ import annotations

import functools
import re

from zhiyi.fhir import params
from zhiyi.fhir.extract import rows_for

_VALUE_AS = re.compile(r"value\.as\((\w+)\)")
# the JSON keys of value[x] and the FHIR types they hold
_CHOICE = {
    "Quantity": "Quantity",
    "CodeableConcept": "CodeableConcept",
    "string": "String",
    "DateTime": "DateTime",
}


@functools.cache
def declared(rtype: str) -> tuple[tuple[str, bool, bool, str, tuple[str, ...]], ...]:
    """(code, on the resource, on its components, the value's search type, the value's FHIR types)."""
    found = []
    for code, p in params.for_type(rtype).items():
        if p.type != "composite" or len(p.components) != 2:
            continue
        bases = {b.strip() for b in p.expression.split("|")}
        value_code = p.components[1][0]
        value_param = params.find(rtype, value_code)
        kinds = tuple(dict.fromkeys(_VALUE_AS.findall(p.components[1][1])))
        if value_param is None or not kinds or p.components[0][1] != "code":
            continue
        found.append((code, rtype in bases, f"{rtype}.component" in bases, value_param.type, kinds))
    return tuple(found)


def _value_nodes(element: dict, kinds: tuple[str, ...]) -> list:
    nodes = []
    for kind in kinds:
        key = "value" + _CHOICE.get(kind, kind[:1].upper() + kind[1:])
        if key in element:
            fhir_type = {"DateTime": "dateTime", "String": "string"}.get(kind, kind)
            nodes.append((fhir_type, element[key]))
        if kind == "DateTime" and "valuePeriod" in element:
            nodes.append(("Period", element["valuePeriod"]))
    return nodes


def composite_rows(resource: dict) -> list[tuple]:
    """(param, system, code, v_system, v_code, v_number, v_unit, v_low, v_high, v_text) per element."""
    rtype = resource.get("resourceType", "")
    rows: list[tuple] = []
    for code, on_resource, on_components, value_type, kinds in declared(rtype):
        elements = ([resource] if on_resource else []) + (
            [c for c in resource.get("component") or () if isinstance(c, dict)] if on_components else []
        )
        for element in elements:
            concept = element.get("code")
            if not isinstance(concept, dict):
                continue
            codes = rows_for("token", code, [("CodeableConcept", concept)]).tokens
            values = rows_for(value_type, code, _value_nodes(element, kinds))
            for _, system, token, _text in codes:
                for v in _value_rows(value_type, values):
                    rows.append((code, system, token, *v))
    return list(dict.fromkeys(rows))


def _value_rows(value_type: str, values) -> list[tuple]:
    # (v_system, v_code, v_number, v_unit, v_low, v_high, v_text)
    if value_type == "quantity":
        return [(s, c, n, u, None, None, None) for _, n, s, c, u in values.quantities]
    if value_type == "token":
        return [(s, c, None, None, None, None, t) for _, s, c, t in values.tokens]
    if value_type == "date":
        return [(None, None, None, None, lo, hi, None) for _, lo, hi in values.dates]
    if value_type == "string":
        return [(None, None, None, None, None, None, f) for _, f, _exact in values.strings]
    return []
