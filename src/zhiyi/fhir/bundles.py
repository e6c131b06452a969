"""Batch and transaction Bundles (POST [base]): each entry goes through the router's `handle`, so it obeys
the same rules, access and audit as the interaction sent alone.

A transaction is all or nothing: the entries run in the spec's order (DELETE, POST, PUT/PATCH, GET), the
POSTs' fullUrls (urn:uuid:...) are resolved to the ids they will get and every reference to them rewritten
first, and the first failing entry fails the whole Bundle (the edge rolls back). A batch runs each entry
on its own, in a SAVEPOINT, so a failed entry's writes are undone and the others kept.

The request's Bundle is rewritten in place: it was parsed for this request alone, and copying ~100
resources to change a few references would cost more than the rest of the work on them.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.fhir import params, store
from zhiyi.fhir.access import Access
from zhiyi.fhir.errors import FhirError, Issue, invalid
from zhiyi.fhir.exchange import (
    FhirRequest,
    FhirResponse,
    conditional_criteria,
    etag,
    instant,
    parse_query,
    status_line,
)

__all__ = ["MAX_BUNDLE_ENTRIES", "Entry", "parse_entry", "process", "resolve_references", "transaction_order"]

MAX_BUNDLE_ENTRIES = 10_000
Handler = Callable[[AsyncSession, Access, FhirRequest], Awaitable[FhirResponse]]
# the spec's processing order of a transaction's entries (http.html#trules); a batch's is the Bundle's
_ORDER = {"DELETE": 0, "POST": 1, "PUT": 2, "PATCH": 2, "GET": 3, "HEAD": 3}
_ENTRY_HEADERS = (
    ("ifMatch", "if-match"),
    ("ifNoneExist", "if-none-exist"),
    ("ifNoneMatch", "if-none-match"),
    ("ifModifiedSince", "if-modified-since"),
)


@dataclass(slots=True)
class Entry:
    """One entry's request, as parsed from Bundle.entry[index]."""

    index: int
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    resource: dict | None
    full_url: str | None
    url: str  # as the Bundle gave it, for messages


async def process(
    session: AsyncSession, access: Access, request: FhirRequest, *, handle: Handler
) -> FhirResponse:
    bundle = request.body
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise invalid("POST to the base takes a Bundle of type batch or transaction.", expression="Bundle")
    kind = bundle.get("type")
    if kind not in ("batch", "transaction"):
        raise invalid(
            f"A Bundle of type {kind!r} cannot be processed; send batch or transaction.",
            expression="Bundle.type",
        )
    raw = bundle.get("entry", [])
    if not isinstance(raw, list):
        raise invalid("Bundle.entry must be an array.", expression="Bundle.entry")
    if len(raw) > MAX_BUNDLE_ENTRIES:
        raise FhirError(
            413,
            [Issue("too-costly", f"A Bundle may hold at most {MAX_BUNDLE_ENTRIES} entries, not {len(raw)}.")],
        )
    prefer = _entry_prefer(request.headers.get("prefer"))
    if kind == "transaction":
        entries = [parse_entry(i, e, base_url=request.base_url, prefer=prefer) for i, e in enumerate(raw)]
        answers = await _transaction(session, access, request, entries, handle)
    else:
        answers = await _batch(session, access, request, raw, prefer, handle)
    said: dict = {"resourceType": "Bundle", "type": f"{kind}-response"}
    if answers:  # FHIR JSON has no empty arrays
        said["entry"] = answers
    return FhirResponse(200, said)


def _entry_prefer(outer: str | None) -> str:
    """The entries' Prefer: the Bundle's, and return=minimal unless it asks otherwise (the client sent the
    resources; echoing a hundred of them back would double the response for nothing)."""
    if not outer:
        return "return=minimal"
    return outer if "return=" in outer else f"{outer}, return=minimal"


def parse_entry(index: int, raw: object, *, base_url: str, prefer: str) -> Entry:
    where = f"Bundle.entry[{index}]"
    request = raw.get("request") if isinstance(raw, dict) else None
    method = request.get("method") if isinstance(request, dict) else None
    url = request.get("url") if isinstance(request, dict) else None
    if not isinstance(method, str) or method.upper() not in _ORDER or not isinstance(url, str) or not url:
        raise invalid(
            f"{where} needs a request with a method (GET, POST, PUT, DELETE) and a url.",
            expression=f"{where}.request",
        )
    method = method.upper()
    if url.startswith(base_url + "/"):
        url = url[len(base_url) + 1 :]
    elif "://" in url.split("?", 1)[0]:
        raise invalid(
            f"{where}.request.url {url!r} is not on this server.", expression=f"{where}.request.url"
        )
    path, _, query = url.lstrip("/").partition("?")
    if not path.strip("/") and method == "POST":
        raise invalid(f"{where}: a Bundle cannot be nested in a Bundle.", expression=f"{where}.request.url")
    headers = {"prefer": prefer}
    for element, header in _ENTRY_HEADERS:
        if isinstance(request.get(element), str):
            headers[header] = request[element]
    resource = raw.get("resource")
    full_url = raw.get("fullUrl")
    return Entry(
        index=index,
        method=method,
        path=path,
        query=parse_query(query) if query else [],
        headers=headers,
        resource=resource if isinstance(resource, dict) else None,
        full_url=full_url if isinstance(full_url, str) else None,
        url=request["url"],
    )


def transaction_order(entries: Iterable[Entry]) -> list[Entry]:
    """DELETE, then POST, then PUT/PATCH, then GET; the Bundle's order within each (a stable sort)."""
    return sorted(entries, key=lambda e: _ORDER[e.method])


def _sub_request(entry: Entry, outer: FhirRequest, assigned_id: str | None = None) -> FhirRequest:
    return FhirRequest(
        method=entry.method,
        path=entry.path,
        query=entry.query,
        headers=entry.headers,
        body=entry.resource,
        base_url=outer.base_url,
        assigned_id=assigned_id,
    )


def _answer(response: FhirResponse, base_url: str) -> dict:
    """A response Bundle's entry for one entry's FhirResponse."""
    said: dict = {"status": status_line(response.status)}
    location = response.headers.get("Location")
    if location:
        said["location"] = location.removeprefix(base_url + "/")
    stored = response.stored
    if stored is not None:
        said["etag"] = etag(stored.version)
        said["lastModified"] = instant(stored.updated_at)
    entry: dict = {}
    body = response.body
    if body is not None:
        if body.get("resourceType") == "OperationOutcome":
            said["outcome"] = body
        else:
            if stored is not None:
                entry["fullUrl"] = f"{base_url}/{stored.type}/{stored.id}"
            entry["resource"] = body
    entry["response"] = said
    return entry


def _failed(err: FhirError) -> dict:
    return {"response": {"status": status_line(err.status), "outcome": err.outcome()}}


def _at_entry(err: FhirError, entry: Entry) -> FhirError:
    """The entry's error, its issues pointing into the Bundle ("Bundle.entry[3].resource.birthDate")."""
    where = f"Bundle.entry[{entry.index}]"

    def inside(expression: str) -> str:
        head, dot, rest = expression.partition(".")
        if head[:1].isupper():  # rooted at the resource type: Patient.birthDate
            return f"{where}.resource{dot}{rest}"
        return f"{where}.resource.{expression}"

    issues = [
        Issue(
            i.code,
            f"{where} ({entry.method} {entry.url}): {i.diagnostics}",
            i.severity,
            tuple(inside(x) for x in i.expression) or (where,),
        )
        for i in err.issues
    ]
    return FhirError(err.status, issues, err.headers)


async def _batch(
    session: AsyncSession, access: Access, outer: FhirRequest, raw: list, prefer: str, handle: Handler
) -> list[dict]:
    answers = []
    for index, item in enumerate(raw):
        try:
            entry = parse_entry(index, item, base_url=outer.base_url, prefer=prefer)
            async with session.begin_nested():  # a failed entry's writes undone, the others' kept
                response = await handle(session, access, _sub_request(entry, outer))
                await store.write_created(session)  # inside its savepoint
        except FhirError as err:
            store.forget_created(session)
            answers.append(_failed(err))
            continue
        except IntegrityError:  # lost a race to a concurrent write (the savepoint is already rolled back)
            store.forget_created(session)
            answers.append(
                _failed(FhirError(409, [Issue("conflict", "Conflicts with a concurrent change.")]))
            )
            continue
        answers.append(_answer(response, outer.base_url))
    return answers


async def _transaction(
    session: AsyncSession, access: Access, outer: FhirRequest, entries: list[Entry], handle: Handler
) -> list[dict]:
    answers: list[dict | None] = [None] * len(entries)
    ordered = transaction_order(entries)
    first_write = next((i for i, e in enumerate(ordered) if e.method != "DELETE"), len(ordered))

    async def run(entry: Entry, assigned_id: str | None = None) -> None:
        try:
            response = await handle(session, access, _sub_request(entry, outer, assigned_id))
        except FhirError as err:
            raise _at_entry(err, entry) from None
        answers[entry.index] = _answer(response, outer.base_url)

    for entry in ordered[:first_write]:
        await run(entry)
    # after the deletions (a conditional create must not find what this Bundle deletes), before the rest
    assigned = await _assign_ids(session, access, entries)
    await resolve_references(
        session, access, (e.resource for e in entries if e.resource is not None), _mapping(entries, assigned)
    )
    for entry in ordered[first_write:]:
        await run(entry, assigned.get(entry.index))
    return answers  # type: ignore[return-value]  (every entry answered, or an error raised)


async def _assign_ids(session: AsyncSession, access: Access, entries: list[Entry]) -> dict[int, str]:
    """Each POST's id: its conditional create's one match, or a new one the store is asked to use."""
    assigned = {}
    for entry in entries:
        rtype = entry.path.strip("/")
        if entry.method != "POST" or "/" in rtype or rtype not in params.declared_types():
            continue  # an operation (Patient/$validate) or an unknown type, which the router refuses
        condition = entry.headers.get("if-none-exist")
        if condition:
            found = await store.conditional_ids(
                session, access, rtype, conditional_criteria(condition, rtype)
            )
            if len(found) == 1:
                assigned[entry.index] = found[0]
                continue
        assigned[entry.index] = str(uuid.uuid4())  # as the store makes its own
    return assigned


def _mapping(entries: list[Entry], assigned: Mapping[int, str]) -> dict[str, str]:
    """fullUrl -> "Type/id" for the entries that references may point at by fullUrl."""
    mapping = {}
    for entry in entries:
        if not entry.full_url:
            continue
        if entry.index in assigned:
            mapping[entry.full_url] = f"{entry.path.strip('/')}/{assigned[entry.index]}"
        elif entry.method == "PUT" and entry.path.count("/") == 1 and not entry.query:
            mapping[entry.full_url] = entry.path.strip("/")  # PUT Patient/123 with a urn:uuid fullUrl
    return mapping


async def resolve_references(
    session: AsyncSession, access: Access, resources: Iterable[dict], mapping: Mapping[str, str]
) -> None:
    """Rewrite, in one walk, every `reference` naming a mapped fullUrl to "Type/id", and every conditional
    reference ("Patient?identifier=a|b") to the one resource it matches (none or several: 412)."""
    conditional: list[tuple[dict, str]] = []
    stack: list = list(resources)
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(value, str):
                    if key == "reference":
                        target = mapping.get(value)
                        if target is not None:
                            node[key] = target
                        elif "?" in value and not value.startswith("#") and "://" not in value:
                            conditional.append((node, value))
                elif isinstance(value, dict | list):
                    stack.append(value)
        else:
            stack.extend(v for v in node if isinstance(v, dict | list))
    resolved: dict[str, str] = {}
    for node, value in conditional:
        if value not in resolved:
            resolved[value] = await _resolve_conditional(session, access, value)
        node["reference"] = resolved[value]


async def _resolve_conditional(session: AsyncSession, access: Access, reference: str) -> str:
    rtype, _, query = reference.partition("?")
    if rtype not in params.declared_types():
        raise invalid(f"Conditional reference {reference!r} names an unknown resource type.")
    found = await store.conditional_ids(session, access, rtype, conditional_criteria(query, rtype))
    if len(found) != 1:
        raise FhirError(
            412,
            [
                Issue(
                    "not-found" if not found else "multiple-matches",
                    f"Conditional reference {reference!r} matches {len(found)} resources; it must match one.",
                )
            ],
        )
    return f"{rtype}/{found[0]}"
