"""_summary and _elements: a search's matches cut down to the elements asked for, marked SUBSETTED (a
client must not write such a copy back as the whole resource)."""

from __future__ import annotations

import functools

from fhir.resources.R4B import get_fhir_model_class

SUBSETTED = {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "SUBSETTED"}
ALWAYS = ("resourceType", "id", "meta")


@functools.cache
def summary_elements(rtype: str) -> frozenset[str]:
    """The elements the specification marks as part of the summary (isSummary), from the R4B models."""
    fields = get_fhir_model_class(rtype).model_fields
    found = set()
    for name, info in fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        if extra.get("summary_element_property"):
            found.add(info.alias or name)
    return frozenset(found)


def _choice_base(key: str, names: frozenset[str]) -> bool:
    """valueQuantity belongs to value[x] when `value` is named."""
    return any(key.startswith(n) and key[len(n) : len(n) + 1].isupper() for n in names)


def _subsetted(content: dict, keep) -> dict:
    out = {k: v for k, v in content.items() if k in ALWAYS or keep(k)}
    meta = dict(out.get("meta") or {})
    meta["tag"] = [*(meta.get("tag") or []), SUBSETTED]
    out["meta"] = meta
    return out


def shape(content: dict, *, summary: str | None, elements: tuple[str, ...]) -> dict:
    if elements:
        names = frozenset(elements)
        return _subsetted(content, lambda k: k in names or _choice_base(k, names))
    if summary == "true":
        names = summary_elements(content["resourceType"])
        return _subsetted(content, lambda k: k in names or _choice_base(k, names))
    if summary == "text":
        return _subsetted(content, lambda k: k == "text")
    if summary == "data":
        return _subsetted(content, lambda k: k != "text")
    return content
