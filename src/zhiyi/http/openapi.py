"""The OpenAPI document says what the API really answers: every error status with the one error body
(core.errors.ErrorBody), not FastAPI's default 422 schema, and no status a route cannot give."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field


class FieldErrorModel(BaseModel):
    field: str = Field(description="The field at fault, dotted (`body` for the whole body)")
    message: str
    type: str = Field(
        description="A machine-readable kind, e.g. `missing`, `string_too_long`, `password.weak`"
    )


class ErrorResponse(BaseModel):
    """Every error of the API has this shape."""

    code: str = Field(description="Machine-readable: `validation_failed`, `forbidden`, `slot_full`, ...")
    message: str = Field(description="For people, in the language the request asked for")
    errors: list[FieldErrorModel] = Field(default_factory=list)
    request_id: str | None = Field(description="Also in the X-Request-ID header; quote it to support")


DESCRIPTIONS = {
    400: "Malformed request (not JSON, a character no field may hold)",
    401: "Not signed in, or the token is invalid, expired or revoked",
    403: "Signed in, but not allowed to do this",
    404: "No such resource (or not one the caller may know of)",
    409: "Conflicts with the current state (taken, already done, a lost race)",
    413: "The request body is too large",
    415: "Send JSON with Content-Type application/json",
    422: "A field or a rule of the domain refuses the request",
    429: "Too many requests or attempts; see Retry-After",
    503: "The hospital's system is busy; see Retry-After",
}
# what any operation may answer whatever its route: the edge refuses bodies and characters, the database
# pool may be exhausted
ANY = (400, 413, 503)


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorResponse, "description": DESCRIPTIONS[code]} for code in codes}


ERROR_REF = {"$ref": "#/components/schemas/ErrorResponse"}


def install(app: FastAPI) -> None:
    """Every operation documents the errors it may give: the edge's, 401/403 where it takes a token,
    404 where its path names something, 409/422/429 where it takes a body or acts; each with the error
    body's schema (FastAPI's own 422 schema, which the API never sends, is replaced)."""

    def openapi() -> dict:
        if app.openapi_schema:
            return app.openapi_schema
        doc = get_openapi(
            title=app.title, version=app.version, routes=app.routes, description=app.description
        )
        components = doc.setdefault("components", {})
        schemas = components.setdefault("schemas", {})
        schemas["ErrorResponse"] = ErrorResponse.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        schemas.update(schemas["ErrorResponse"].pop("$defs", {}))
        for name in ("HTTPValidationError", "ValidationError"):
            schemas.pop(name, None)
        for path, operations in doc.get("paths", {}).items():
            for method, op in operations.items():
                codes = set(ANY) | {422}
                if op.get("security") or path.startswith("/api/") or path == "/metrics":
                    codes |= {401, 403}
                if "{" in path or path.startswith("/api/"):  # an id in the path, the query or the body
                    codes.add(404)
                if method in ("post", "put", "patch", "delete"):
                    codes |= {409, 415, 429}
                if path.startswith("/api/v1/auth"):
                    codes |= {401, 429}
                if path in ("/healthz", "/livez"):
                    codes = {400, 413}
                responses = op.setdefault("responses", {})
                for code in sorted(codes):
                    entry = responses.setdefault(str(code), {"description": DESCRIPTIONS[code]})
                    entry["content"] = {"application/json": {"schema": ERROR_REF}}
                if path == "/healthz":
                    responses["503"] = {
                        "description": "The database cannot be reached",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "status": {"type": "string"},
                                        "database": {"type": "string"},
                                    },
                                }
                            }
                        },
                    }
        app.openapi_schema = doc
        return doc

    app.openapi = openapi
