"""Required bindings of the code systems Zhiyi defines (`urn:zhiyi:...`): a Coding that names one of them
written through the FHIR API must carry one of its codes (the domains' own projections are held to them
by their tests). The domains register their systems where they define them (org's practitioner titles,
triage's outcomes); a system whose codes live in rows (the department catalogue) is not checked here."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import orjson

from zhiyi.fhir.errors import Issue

_PREFIX = b"urn:zhiyi:"
_systems: dict[str, Callable[[], Iterable[str]]] = {}


def register(system: str, codes: Callable[[], Iterable[str]]) -> None:
    """`codes()`: the system's codes (asked at each check: cheap, and never stale)."""
    _systems[system] = codes


def systems() -> dict[str, frozenset[str]]:
    return {system: frozenset(codes()) for system, codes in _systems.items()}


def issues(resource: dict, rtype: str) -> list[Issue]:
    """An issue for each Coding of a registered system whose code is not one of the system's."""
    if not _systems or _PREFIX not in orjson.dumps(resource):  # the fast path: no Zhiyi system named
        return []
    found: list[Issue] = []
    _walk(resource, rtype, systems(), found)
    return found


def _walk(node: object, path: str, known: dict[str, frozenset[str]], found: list[Issue]) -> None:
    if isinstance(node, dict):
        system = node.get("system")
        if isinstance(system, str) and system in known and "code" in node:
            code = node["code"]
            if isinstance(code, str) and code not in known[system]:  # (not a string: the model's to say)
                choices = ", ".join(sorted(known[system]))
                found.append(
                    Issue(
                        "code-invalid",
                        f"{code!r} is not a code of {system} (one of: {choices}).",
                        expression=(f"{path}.code",),
                    )
                )
        for key, value in node.items():
            _walk(value, f"{path}.{key}", known, found)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _walk(value, f"{path}[{i}]", known, found)
