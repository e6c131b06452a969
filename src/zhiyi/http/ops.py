"""Operations endpoints: health and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from zhiyi.core import security
from zhiyi.core.config import get_settings
from zhiyi.core.db import write_intent
from zhiyi.core.errors import Forbidden, NotAuthenticated
from zhiyi.core.policy import Role
from zhiyi.http.auth import accounts
from zhiyi.http.openapi import error_responses
from zhiyi.http.tx import TxRoute, session_of

router = APIRouter(include_in_schema=True, tags=["operations"])
metrics_router = APIRouter(include_in_schema=True, tags=["operations"], route_class=TxRoute)


@router.get("/healthz", summary="Liveness and database reachability")
async def healthz(request: Request):
    write_intent.set(False)  # a pure read: never wait for SQLite's write lock
    try:
        async with request.app.state.db.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception:
        return JSONResponse({"status": "degraded", "database": "unreachable"}, status_code=503)
    return {"status": "ok", "database": "ok"}


@router.get("/livez", summary="Liveness only (no database): the cheapest request the server answers")
async def livez():
    return {"status": "ok"}


@metrics_router.get(
    "/metrics",
    summary="Prometheus metrics (a bearer of ZHIYI_METRICS_TOKEN, or an admin's access token)",
    response_class=Response,
    responses={
        200: {
            "content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}},
            "description": "Prometheus text exposition format",
        },
        **error_responses(401, 403),
    },
)
async def metrics(request: Request):
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise NotAuthenticated(headers={"WWW-Authenticate": "Bearer"})
    expected = get_settings().metrics_token
    if not (expected and security.constant_equals(token, expected)):
        actor = await accounts().actor_for_token(session_of(request), token=token)  # or 401
        if not actor.has(Role.admin):
            raise Forbidden()
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
