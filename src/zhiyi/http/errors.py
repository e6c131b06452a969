"""The one mapping of errors to responses: JSON for the API, a friendly page for people."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException

from zhiyi.core import requestctx
from zhiyi.core.errors import DomainError, ErrorBody, FieldError
from zhiyi.core.i18n import N_, negotiate, translator

log = logging.getLogger("zhiyi.http")

HTTP_CODES = {
    400: ("bad_request", N_("The request could not be processed.")),
    401: ("not_authenticated", N_("Authentication required.")),
    403: ("forbidden", N_("You are not allowed to do this.")),
    404: ("not_found", N_("Not found.")),
    405: ("method_not_allowed", N_("This method is not allowed here.")),
    413: ("payload_too_large", N_("The request body is too large.")),
    415: ("unsupported_media_type", N_("Send JSON with Content-Type application/json.")),
    429: ("too_many_requests", N_("Too many attempts; try again later.")),
    500: ("internal_error", N_("Something went wrong on our side. The error has been logged.")),
}


# FHIR's IssueType for each status of an error met before the FHIR router (no token, a body over the
# limit, a method not served, a failure of ours)
FHIR_ISSUE_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    409: "conflict",
    413: "too-costly",
    415: "not-supported",
    422: "invalid",
    429: "throttled",
    503: "transient",
}
FHIR_MEDIA_TYPE = "application/fhir+json; charset=utf-8"


def is_fhir(path: str) -> bool:
    """Under /fhir every answer is FHIR's, errors included (an OperationOutcome, not the API's shape)."""
    return path == "/fhir" or path.startswith("/fhir/")


def operation_outcome(status: int, body: ErrorBody) -> dict:
    severity = "fatal" if status >= 500 else "error"
    code = FHIR_ISSUE_CODES.get(status, "exception" if status >= 500 else "processing")
    issues = [{"severity": severity, "code": code, "diagnostics": body.message}]
    issues += [
        {"severity": "error", "code": "invalid", "diagnostics": e.message, "expression": [e.field]}
        for e in body.errors
    ]
    return {"resourceType": "OperationOutcome", "issue": issues}


def wants_html(request: Request) -> bool:
    path = request.scope["path"]  # what request.url.path reads, without building the whole URL
    return not (path.startswith("/api") or path.startswith("/fhir")) and path not in ("/healthz", "/metrics")


def _locale(request: Request) -> str:
    return getattr(request.state, "locale", None) or negotiate(request.headers.get("accept-language"))


def render(request: Request, status: int, body: ErrorBody, headers: dict[str, str] | None = None) -> Response:
    t = translator(_locale(request))
    body.message = t.gettext(body.message, **body.params)
    for e in body.errors:
        e.message = t.gettext(e.message)
    body.request_id = requestctx.request_id.get()
    if wants_html(request):  # a page meets every error as a page in its language, never as JSON
        page = request.app.state.error_page
        return page(request, status, body, headers)
    if is_fhir(request.scope["path"]):
        return JSONResponse(
            operation_outcome(status, body), status_code=status, headers=headers, media_type=FHIR_MEDIA_TYPE
        )
    return JSONResponse(body.as_dict(), status_code=status, headers=headers)


def domain_response(request: Request, exc: DomainError) -> Response:
    return render(
        request,
        exc.status,
        ErrorBody(exc.code, exc.message, list(exc.errors), params=exc.params),
        exc.headers,
    )


def busy_response(request: Request) -> Response:
    """Every database connection stayed busy for the pool's timeout: a load to shed, not a bug."""
    log.warning("database pool exhausted", extra={"path": request.url.path})
    return render(
        request,
        503,
        ErrorBody("busy", N_("The hospital's system is very busy; please try again in a moment.")),
        {"Retry-After": "2"},
    )


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError):
        return domain_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        errors, malformed = [], False
        for e in exc.errors():
            if e.get("type") == "json_invalid":
                malformed = True
            loc = [str(x) for x in e.get("loc", ()) if x not in ("body", "query", "path", "header", "cookie")]
            errors.append(
                FieldError(".".join(loc) or "body", e.get("msg", "invalid"), e.get("type", "invalid"))
            )
        if malformed:
            return render(
                request, 400, ErrorBody("malformed_json", N_("The request body is not valid JSON."), errors)
            )
        return render(request, 422, ErrorBody("validation_failed", N_("Some fields are invalid."), errors))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        code, message = HTTP_CODES.get(exc.status_code, ("error", str(exc.detail)))
        return render(request, exc.status_code, ErrorBody(code, message), getattr(exc, "headers", None))

    @app.exception_handler(IntegrityError)
    async def integrity_error(request: Request, exc: IntegrityError):
        # a race lost to a concurrent request (the rule was checked, then another request won)
        log.info("integrity conflict", extra={"path": request.url.path, "detail": str(exc.orig)[:200]})
        return render(
            request, 409, ErrorBody("conflict", N_("Conflicts with the current state; please retry."))
        )

    @app.exception_handler(DataError)
    async def data_error(request: Request, exc: DataError):
        log.info(
            "data refused by the database", extra={"path": request.url.path, "detail": str(exc.orig)[:200]}
        )
        return render(request, 400, ErrorBody("bad_request", N_("The request could not be processed.")))

    @app.exception_handler(PoolTimeout)
    async def overloaded(request: Request, exc: PoolTimeout):
        return busy_response(request)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        log.exception("unhandled error", extra={"path": request.url.path})
        code, message = HTTP_CODES[500]
        return render(request, 500, ErrorBody(code, message))
