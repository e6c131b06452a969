"""Operations endpoints: health and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from zhiyi.core.db import write_intent

router = APIRouter(include_in_schema=True, tags=["operations"])


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


@router.get("/metrics", summary="Prometheus metrics")
async def metrics():
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
