"""The FHIR REST interactions, transport-free: a FhirRequest in, a FhirResponse out, or a FhirError raised
(the edge answers it as an OperationOutcome and rolls the request's transaction back).

Every interaction goes through `handle`, Bundle entries included (bundles.py calls it per entry), so each
obeys the same rules, access and audit. Reads, searches, histories and $everything write an audit row;
so do writes (`fhir.<interaction>`, resource type `fhir:<Type>`).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.core import audit
from zhiyi.fhir import bundles, capability, params, store, trail, validation
from zhiyi.fhir.access import Access
from zhiyi.fhir.errors import FhirError, Issue, conflict, forbidden, gone, invalid, not_supported
from zhiyi.fhir.exchange import (
    FhirRequest,
    FhirResponse,
    conditional_criteria,
    etag,
    http_date,
    informational,
    instant,
    parse_if_match,
    preferences,
    query_string,
    status_line,
)
from zhiyi.fhir.store import Stored, Written

__all__ = ["FhirRequest", "FhirResponse", "handle"]

FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
HISTORY_COUNT = 50
MAX_HISTORY_COUNT = 1000
# Parameters of the HTTP binding, not of the search: api.py reads them; never passed to the store
_TRANSPORT_PARAMS = frozenset({"_format", "_pretty"})


async def handle(session: AsyncSession, access: Access, request: FhirRequest) -> FhirResponse:
    stripped = request.path.strip("/")
    parts = stripped.split("/") if stripped else []
    match request.method.upper(), parts:
        case "GET", ["metadata"]:
            return FhirResponse(200, capability.statement(request.base_url))
        case "POST", []:
            return await bundles.process(session, access, request, handle=handle)
        case ("GET", []) | ("GET" | "POST", ["_search"]):
            return await _search(session, access, request, None)
        case "GET", ["_history"]:
            return await _history(session, access, request, None, None)
        case "GET", [t]:
            return await _search(session, access, request, _type(t))
        case "POST", [t]:
            return await _create(session, access, request, _type(t))
        case "PUT", [t]:
            return await _conditional_update(session, access, request, _type(t))
        case "DELETE", [t]:
            _type(t)
            raise not_supported("Conditional delete is not supported; delete by id.", status=405)
        case "POST", [t, "_search"]:
            return await _search(session, access, request, _type(t))
        case "GET", [t, "_history"]:
            return await _history(session, access, request, _type(t), None)
        case "POST", [t, "$validate"]:
            return _validate(request, _type(t), None)
        case "GET", [t, rid] if not rid.startswith(("$", "_")):
            return await _read(session, access, request, _type(t), _id(rid))
        case "PUT", [t, rid]:
            return await _update(session, access, request, _type(t), _id(rid))
        case "DELETE", [t, rid]:
            return await _delete(session, access, request, _type(t), _id(rid))
        case "GET", [t, rid, "_history"]:
            return await _history(session, access, request, _type(t), _id(rid))
        case "GET" | "POST", [t, rid, "$everything"] if _type(t) == "Patient":
            return await _everything(session, access, request, _id(rid))
        case "POST", [t, rid, "$validate"]:
            return _validate(request, _type(t), _id(rid))
        case "GET", [t, rid, "_history", version]:
            return await _vread(session, access, request, _type(t), _id(rid), _version(version))
    if parts and parts[0] not in ("metadata", "_history", "_search"):
        _type(parts[0])  # an unknown type is a 404 whatever the rest of the path
    if request.method.upper() not in ("GET", "POST", "PUT", "DELETE"):
        raise not_supported(f"{request.method} is not supported.", status=405)
    raise not_supported(f"{request.method} /{stripped} is not an interaction of this server.", status=404)


def _type(name: str) -> str:
    if name not in params.declared_types():
        raise not_supported(f"Resource type {name!r} is not supported by this server.", status=404)
    return name


def _id(rid: str) -> str:
    if not FHIR_ID.fullmatch(rid):
        raise invalid(f"{rid!r} is not a valid resource id (1-64 of A-Z a-z 0-9 - .).")
    return rid


def _version(raw: str) -> int:
    if not raw.isdigit() or int(raw) < 1:
        raise invalid(f"{raw!r} is not a version id (a positive integer).")
    return int(raw)


def _audit(session: AsyncSession, access: Access, action: str, rtype: str | None, rid: str | None) -> None:
    patient_id = None
    if rtype == "Patient" and rid:  # one of Zhiyi's patients: the row joins their trail
        try:
            patient_id = uuid.UUID(rid)
        except ValueError:
            pass
    audit.record(session, access.actor, f"fhir.{action}", f"fhir:{rtype or '*'}", rid, patient_id=patient_id)


def _may_write(access: Access) -> None:
    if not access.may_write():
        raise forbidden("This account may read the FHIR repository but not change it.")


def _body(request: FhirRequest) -> dict:
    if request.body is None:
        raise FhirError(400, [Issue("required", "A resource is required in the body.")])
    return request.body


# ---- responses --------------------------------------------------------------------------------------


def _version_headers(stored: Stored) -> dict[str, str]:
    return {"ETag": etag(stored.version), "Last-Modified": http_date(stored.updated_at)}


def _resource_response(stored: Stored) -> FhirResponse:
    if stored.deleted or stored.content is None:
        raise gone(stored.type, stored.id)
    return FhirResponse(200, stored.content, _version_headers(stored), stored)


def _written_response(request: FhirRequest, written: Written, action: str) -> FhirResponse:
    stored = written.stored
    headers = _version_headers(stored)
    headers["Location"] = f"{request.base_url}/{stored.type}/{stored.id}/_history/{stored.version}"
    status = 201 if written.created else 200
    wanted = preferences(request.headers).get("return", "representation")
    if wanted == "minimal":
        body = None
    elif wanted == "operationoutcome":
        body = informational(f"{action} {stored.type}/{stored.id} (version {stored.version}).")
    else:
        body = stored.content
    return FhirResponse(status, body, headers, stored)


# ---- instance and type interactions ------------------------------------------------------------------


async def _read(session: AsyncSession, access: Access, request: FhirRequest, rtype: str, rid: str):
    if trail.is_trail_id(rtype, rid):
        stored = await trail.read(session, access, rid)
    else:
        stored = await store.read(session, access, rtype, rid)
    _audit(session, access, "read", rtype, rid)
    return _resource_response(stored)


async def _vread(session: AsyncSession, access: Access, request: FhirRequest, rtype: str, rid: str, v: int):
    stored = await store.vread(session, access, rtype, rid, v)
    _audit(session, access, "vread", rtype, rid)
    return _resource_response(stored)


async def _create(session: AsyncSession, access: Access, request: FhirRequest, rtype: str) -> FhirResponse:
    _may_write(access)
    body = _body(request)
    validation.validate(body, rtype_from_url=rtype)
    condition = request.headers.get("if-none-exist")
    if condition:
        found = await store.conditional_ids(session, access, rtype, conditional_criteria(condition, rtype))
        if len(found) > 1:
            raise conflict(
                f"If-None-Exist matches {len(found)} {rtype} resources; it must match one.", status=412
            )
        if found:
            existing = await store.read(session, access, rtype, found[0])
            _audit(session, access, "read", rtype, existing.id)
            return _written_response(request, Written(existing, created=False, changed=False), "Found")
    # the server assigns the id of a created resource (a client's is ignored, as the spec says)
    resource = {k: v for k, v in body.items() if k != "id"} if "id" in body else body
    written = await store.create(session, access, resource, rid=request.assigned_id)
    _audit(session, access, "create", rtype, written.stored.id)
    return _written_response(request, written, "Created")


async def _update(
    session: AsyncSession, access: Access, request: FhirRequest, rtype: str, rid: str
) -> FhirResponse:
    _may_write(access)
    body = _body(request)
    validation.validate(body, rtype_from_url=rtype)
    if body.get("id") != rid:
        raise invalid(
            f"The resource's id ({body.get('id')!r}) must be the id in the URL ({rid!r}).",
            expression=f"{rtype}.id",
        )
    if_match = parse_if_match(request.headers.get("if-match"))
    written = await store.update(session, access, rtype, rid, body, if_match=if_match)
    _audit(session, access, "update", rtype, rid)
    return _written_response(request, written, "Created" if written.created else "Updated")


async def _conditional_update(
    session: AsyncSession, access: Access, request: FhirRequest, rtype: str
) -> FhirResponse:
    _may_write(access)
    body = _body(request)
    validation.validate(body, rtype_from_url=rtype)
    criteria = [(k, v) for k, v in request.query if k not in _TRANSPORT_PARAMS]
    if not criteria:
        raise invalid("A conditional update needs search criteria (PUT Type?param=value).")
    found = await store.conditional_ids(session, access, rtype, criteria)
    if len(found) > 1:
        raise conflict(f"The criteria match {len(found)} {rtype} resources; they must match one.", status=412)
    body_id = body.get("id")
    if found:
        if body_id is not None and body_id != found[0]:
            raise invalid(
                f"The resource's id ({body_id!r}) is not the id of the resource the criteria match.",
                expression=f"{rtype}.id",
            )
        rid = found[0]
    elif body_id is not None:
        rid = _id(body_id)  # no match and an id given: created with the client's id (update as create)
    else:
        written = await store.create(session, access, body, rid=request.assigned_id)
        _audit(session, access, "create", rtype, written.stored.id)
        return _written_response(request, written, "Created")
    resource = body if body_id == rid else {**body, "id": rid}
    written = await store.update(
        session, access, rtype, rid, resource, if_match=parse_if_match(request.headers.get("if-match"))
    )
    _audit(session, access, "update", rtype, rid)
    return _written_response(request, written, "Created" if written.created else "Updated")


async def _delete(
    session: AsyncSession, access: Access, request: FhirRequest, rtype: str, rid: str
) -> FhirResponse:
    _may_write(access)
    stored = await store.delete(session, access, rtype, rid)
    _audit(session, access, "delete", rtype, rid)
    headers = _version_headers(stored) if stored is not None else {}
    if preferences(request.headers).get("return") == "minimal":
        return FhirResponse(204, None, headers, stored)
    said = (
        f"Deleted {rtype}/{rid}." if stored is not None else f"{rtype}/{rid} was not there; nothing deleted."
    )
    return FhirResponse(200, informational(said), headers, stored)


def _validate(request: FhirRequest, rtype: str, rid: str | None) -> FhirResponse:
    """$validate: the resource itself, or a Parameters whose `resource` parameter holds it; nothing kept."""
    body = _body(request)
    if body.get("resourceType") == "Parameters":
        parameters = body.get("parameter")
        given = [
            p.get("resource")
            for p in (parameters if isinstance(parameters, list) else [])
            if isinstance(p, dict) and p.get("name") == "resource"
        ]
        if not given:
            raise FhirError(400, [Issue("required", "Parameters has no 'resource' parameter.")])
        body = given[0]
    validation.validate(body, rtype_from_url=rtype)
    if rid is not None and isinstance(body, dict) and body.get("id") not in (None, rid):
        raise invalid(f"The resource's id must be {rid!r}.", expression=f"{rtype}.id")
    return FhirResponse(200, informational("The resource is valid."))


# ---- search, history, $everything -------------------------------------------------------------------


def _entry(base: str, stored: Stored, mode: str) -> dict:
    return {
        "fullUrl": f"{base}/{stored.type}/{stored.id}",
        "resource": stored.content,
        "search": {"mode": mode},
    }


async def _search(
    session: AsyncSession, access: Access, request: FhirRequest, rtype: str | None
) -> FhirResponse:
    cursor, wanted, types = None, [], []
    for name, value in request.query:
        if name == "_cursor":
            cursor = value
        elif name == "_type" and rtype is None:
            types.extend(t for t in value.split(",") if t)
        elif name not in _TRANSPORT_PARAMS:
            wanted.append((name, value))
    if rtype is None:
        # a search across types is served for one type only (the store pages one type's index)
        if len(types) != 1:
            raise not_supported("A search from the base needs _type naming one resource type.")
        rtype = _type(types[0])
    strict = preferences(request.headers).get("handling") == "strict"
    if trail.wanted(rtype, wanted):
        result = await trail.search(session, access, wanted, cursor=cursor)
    else:
        result = await store.search(session, access, rtype, wanted, strict=strict, cursor=cursor)
    _audit(session, access, "search", rtype, None)
    base, where = request.base_url, f"{request.base_url}/{rtype}"
    own = query_string(result.self_params)
    links = [{"relation": "self", "url": f"{where}?{own}" if own else where}]
    if result.next_cursor:
        token = query_string([("_cursor", result.next_cursor)])
        links.append({"relation": "next", "url": f"{where}?{own}&{token}" if own else f"{where}?{token}"})
    entries = [_entry(base, s, "match") for s in result.matches]
    entries.extend(_entry(base, s, "include") for s in result.included)
    if result.warnings:
        outcome = {
            "resourceType": "OperationOutcome",
            "issue": [
                {"severity": "warning", "code": "not-supported", "diagnostics": w} for w in result.warnings
            ],
        }
        entries.append({"resource": outcome, "search": {"mode": "outcome"}})
    bundle: dict = {"resourceType": "Bundle", "type": "searchset"}
    if result.total is not None:
        bundle["total"] = result.total
    bundle["link"] = links
    if entries:
        bundle["entry"] = entries
    return FhirResponse(200, bundle)


def _since(raw: str) -> dt.datetime:
    try:
        at = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise invalid(f"_since must be an instant (2024-01-31T08:00:00Z), not {raw!r}.") from None
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at


def _count(raw: str) -> int:
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_HISTORY_COUNT:
        raise invalid(f"_count must be an integer from 1 to {MAX_HISTORY_COUNT}, not {raw!r}.")
    return int(raw)


async def _history(
    session: AsyncSession, access: Access, request: FhirRequest, rtype: str | None, rid: str | None
) -> FhirResponse:
    since, count, cursor, kept = None, HISTORY_COUNT, None, []
    for name, value in request.query:
        if name == "_since":
            since = _since(value)
        elif name == "_count":
            count = _count(value)
        elif name == "_cursor":
            cursor = value
            continue
        else:
            continue  # _at and _list are not supported; like unknown search parameters, ignored
        kept.append((name, value))
    versions, next_cursor = await store.history(
        session, access, rtype=rtype, rid=rid, since=since, count=count, cursor=cursor
    )
    _audit(session, access, "history", rtype, rid)
    where = "/".join([request.base_url, *(p for p in (rtype, rid) if p), "_history"])
    own = query_string(kept)
    links = [{"relation": "self", "url": f"{where}?{own}" if own else where}]
    if next_cursor:
        links.append(
            {"relation": "next", "url": f"{where}?{query_string([*kept, ('_cursor', next_cursor)])}"}
        )
    bundle: dict = {"resourceType": "Bundle", "type": "history", "link": links}
    if versions:
        bundle["entry"] = [_history_entry(request.base_url, v) for v in versions]
    return FhirResponse(200, bundle)


_HISTORY_STATUS = {"POST": 201, "PUT": 200, "DELETE": 204}


def _history_entry(base: str, stored: Stored) -> dict:
    url = stored.type if stored.method == "POST" else f"{stored.type}/{stored.id}"
    entry: dict = {"fullUrl": f"{base}/{stored.type}/{stored.id}"}
    if stored.content is not None and not stored.deleted:
        entry["resource"] = stored.content
    entry["request"] = {"method": stored.method, "url": url}
    entry["response"] = {
        "status": status_line(_HISTORY_STATUS.get(stored.method, 200)),
        "etag": etag(stored.version),
        "lastModified": instant(stored.updated_at),
    }
    return entry


async def _everything(session: AsyncSession, access: Access, request: FhirRequest, rid: str) -> FhirResponse:
    found = await store.everything(session, access, rid)
    _audit(session, access, "everything", "Patient", rid)
    bundle: dict = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(found),
        "link": [{"relation": "self", "url": f"{request.base_url}/Patient/{rid}/$everything"}],
    }
    if found:
        bundle["entry"] = [_entry(request.base_url, s, "match") for s in found]
    return FhirResponse(200, bundle)
