"""The calibration of `zhiyi bench rush --bare`: what a bare FastAPI + asyncpg booking endpoint
reaches on this machine, against the same anchor.

One route, `POST /api/v1/scheduling/bookings`, runs the anchor's own statements (`raw.pg_book`,
with its short question for sessions seen sold out) on an asyncpg pool, behind nothing but
FastAPI and uvicorn: the body is validated, the access token's signature is checked (once per
token), and the Idempotency-Key is the one claimed. None of Zhiyi's layers: no edge or rush lane,
no database session or ORM, no rate limit, no release draw, no translated errors, no outbox
worker, no metrics or access log. Retries, cancellations and waiting lists are not served, so
`--bare` runs the rush without them; compare it with Zhiyi's server under the same options
(`--retry-rate 0 --cancel-rate 0 --waitlist-rate 0`). Not a product: a ruler for the issue's
"a bare FastAPI + asyncpg booking endpoint reaches about 0.4".
"""

from __future__ import annotations

import os
import uuid
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Annotated

import asyncpg
from fastapi import FastAPI, Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from zhiyi.bench import raw
from zhiyi.core import security

PATH = "/api/v1/scheduling/bookings"


class Ask(BaseModel):
    session_id: uuid.UUID


def make_app() -> FastAPI:
    url = "postgresql://" + os.environ["ZHIYI_DATABASE_URL"].split("://", 1)[1]
    secret = os.environ["ZHIYI_SECRET_KEY"]
    # Zhiyi's pool: this many, and as many overflowing
    size = 2 * int(os.environ.get("ZHIYI_DB_POOL_SIZE", "10"))
    sold_out: set[uuid.UUID] = set()  # the hint, per process, as the server's
    # each token's signature checked once per process, as Zhiyi does (the bench's tokens outlive the run)
    claims_of = lru_cache(maxsize=4096)(lambda token: security.read_jwt(secret, token, typ="access"))
    pools: list[asyncpg.Pool] = []

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        pools.append(await asyncpg.create_pool(url, min_size=size, max_size=size))
        yield
        await pools[0].close()

    app = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/healthz")
    @app.get("/livez")
    async def live():
        return {"status": "ok"}

    @app.post(PATH, status_code=201)
    async def book(
        ask: Ask, authorization: Annotated[str, Header()], idempotency_key: Annotated[str, Header()]
    ):
        try:
            claims = claims_of(authorization.removeprefix("Bearer "))
        except security.TokenInvalid:
            return JSONResponse({"code": "not_authenticated"}, status_code=401)
        async with pools[0].acquire() as conn:
            try:
                booking = await raw.pg_book(
                    conn,
                    uuid.UUID(claims["pid"]),
                    uuid.UUID(claims["sub"]),
                    ask.session_id,
                    sold_out,
                    key=idempotency_key,
                )
            except raw.Refused:
                return JSONResponse({"code": "slot_full"}, status_code=409)
        return {"id": str(booking)}

    return app
