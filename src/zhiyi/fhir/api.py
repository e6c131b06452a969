"""The HTTP binding of the FHIR server (/fhir): the one module of zhiyi.fhir that knows FastAPI. It reads
the request into a FhirRequest, asks the router, and writes the FhirResponse as application/fhir+json.

A refusal is returned, not raised, as an OperationOutcome: TxRoute rolls a >=400 response back all the
same. Errors before the route (no token, a body over the limit, a method not served) come out as
OperationOutcomes too, through zhiyi.http.errors for every path under /fhir.
"""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.exc import IntegrityError

from zhiyi.core import jsonio
from zhiyi.core.policy import Actor
from zhiyi.fhir import capability, store
from zhiyi.fhir import router as fhir_router
from zhiyi.fhir.access import access_for, named_patients
from zhiyi.fhir.errors import FhirError, Issue, operation_outcome
from zhiyi.fhir.exchange import FhirRequest, FhirResponse, parse_query
from zhiyi.http.auth import api_actor
from zhiyi.http.tx import TxRoute, session_of

__all__ = ["MEDIA_TYPE", "PREFIX", "router"]

PREFIX = "/fhir"
MEDIA_TYPE = "application/fhir+json; charset=utf-8"
METHODS = ["GET", "POST", "PUT", "DELETE"]
_JSON_TYPES = frozenset({"application/fhir+json", "application/json", "application/json+fhir"})
_FORM_TYPE = "application/x-www-form-urlencoded"
_JSON_FORMATS = frozenset({"json", "application/json", "application/fhir+json", "application/json+fhir"})

router = APIRouter(prefix=PREFIX, route_class=TxRoute, include_in_schema=False)
ActorDep = Annotated[Actor, Depends(api_actor)]


def _refusal(status: int, code: str, diagnostics: str) -> FhirError:
    return FhirError(status, [Issue(code, diagnostics)])


def render(response: FhirResponse, *, pretty: bool = False) -> Response:
    if response.body is None:
        return Response(status_code=response.status, headers=response.headers)
    option = orjson.OPT_INDENT_2 if pretty else 0
    return Response(
        jsonio.dumps_bytes(response.body, option=option),
        status_code=response.status,
        headers=response.headers,
        media_type=MEDIA_TYPE,
    )


def _format(query: list[tuple[str, str]]) -> None:
    for name, value in query:
        if name == "_format" and value.split(";", 1)[0].strip().lower() not in _JSON_FORMATS:
            raise _refusal(406, "not-supported", f"_format={value} is not served; this server speaks JSON.")


async def _body(request: Request, query: list[tuple[str, str]], path: str) -> dict | None:
    """The JSON resource of a POST or PUT (None when there is none), or a form-encoded _search body,
    whose parameters are appended to `query`."""
    raw = await request.body()
    if not raw:
        return None
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media == _FORM_TYPE and path.rstrip("/").endswith("_search"):
        query.extend(parse_query(raw.decode("utf-8", errors="replace")))
        return None
    if media not in _JSON_TYPES:
        raise _refusal(415, "not-supported", "Send FHIR JSON (Content-Type application/fhir+json).")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise _refusal(400, "structure", f"The body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise _refusal(400, "structure", "The body must be a JSON object (a FHIR resource).")
    return body


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/") + PREFIX


@router.get("/metadata")
async def metadata(request: Request) -> Response:
    """The CapabilityStatement, to anyone: a client reads it before it has a token (SMART discovery)."""
    try:
        _format(list(request.query_params.multi_items()))
    except FhirError as err:
        return render(FhirResponse(err.status, err.outcome()))
    return render(FhirResponse(200, capability.statement(_base_url(request))))


@router.api_route("", methods=METHODS)
@router.api_route("/{path:path}", methods=METHODS)
async def fhir(request: Request, actor: ActorDep, path: str = "") -> Response:
    query = list(request.query_params.multi_items())
    pretty = any(name == "_pretty" and value == "true" for name, value in query)
    try:
        _format(query)
        body = await _body(request, query, path) if request.method in ("POST", "PUT") else None
        fhir_request = FhirRequest(
            method=request.method,
            path=path,
            query=query,
            headers=dict(request.headers),  # Starlette's names are lower-case already
            body=body,
            base_url=_base_url(request),
        )
        session = session_of(request)
        access = await access_for(session, actor, named_patients(path, query, body))
        response = await fhir_router.handle(session, access, fhir_request)
        await store.write_created(session)  # a unique key lost to a concurrent create answers here
    except IntegrityError:
        response = FhirResponse(
            409, operation_outcome([Issue("conflict", "Conflicts with a concurrent change.")])
        )
    except FhirError as err:
        response = FhirResponse(err.status, err.outcome(), dict(err.headers))
    return render(response, pretty=pretty)
