"""The rush lane: a release's two commonest answers, "full" and "booked", given before the web framework.

At a release of 1,000 places to 5,000 patients, nine answers in ten are "full" and most of the rest
are a patient's own booking of a session; `own_booking.py` gives either in one statement. Through the
framework, such a request also pays for matching its route among every page's, solving its
dependencies, a database session (and eight statements through it) and, for "full", an exception
raised through four middlewares (in-process CPU per "full": 1.0-1.1 ms through the route, about 0.2 ms
here; per booking about 3 ms). So this pure-ASGI layer, just inside the edge middleware (request id,
body limit, metrics and access log still apply), takes the one request it knows:

    POST /api/v1/scheduling/bookings  {"session_id": ..., "channel": "online"}

by a patient for themself, with a well-formed Idempotency-Key and a valid access token, on
PostgreSQL. It counts the request against the patient's booking limit and books in one statement. It
answers "full" with the same 409 `slot_full` body the route would, and "booked" (or the replay of a
key that booked) with the same 201 body. Everything else (a key answered otherwise, a refusal the
patient should hear by name, a place held by another booking, a stopped session, the release's draw)
goes on to the framework's route unchanged, body and all, which books the usual way. The route's own
checks of token, key, body and whom one may book for come first here too, and what it cannot check it
leaves to the route.
"""

from __future__ import annotations

import asyncpg
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import JSONResponse

from zhiyi.core import idempotency
from zhiyi.core.db import Database
from zhiyi.core.errors import DomainError, NotAuthenticated
from zhiyi.core.policy import Role
from zhiyi.domains.identity import service as identity
from zhiyi.domains.scheduling import draw
from zhiyi.domains.scheduling.errors import SlotFull
from zhiyi.domains.scheduling.rush import batches, own_booking, pool
from zhiyi.domains.scheduling.schemas import BookingCreate
from zhiyi.http.errors import busy_response, domain_response

PATH = "/api/v1/scheduling/bookings"
_READ = frozenset({b"authorization", b"idempotency-key", b"content-type"})


def _json(content_type: str) -> bool:
    """A JSON media type, as FastAPI reads one (application/json or application/*+json)."""
    kind, _, subtype = content_type.partition(";")[0].strip().lower().partition("/")
    return kind == "application" and (subtype == "json" or subtype.endswith("+json"))


async def _tokens_current(engine: AsyncEngine, tokens: list[identity.AccessToken]) -> list[bool]:
    return await batches.pool_round_trip(engine, identity.tokens_current_on_driver, tokens)


_tokens = batches.per_engine(_tokens_current)


class _Route:
    """What the edge middleware labels its metrics with (the route's path)."""

    path = PATH


class RushLane:
    def __init__(self, app, *, db: Database) -> None:
        self.app = app
        self.engine = pool.engine_of(db)  # the batched statements' own connections

    async def __call__(self, scope, receive, send):
        if not (scope["type"] == "http" and scope["path"] == PATH and scope["method"] == "POST"):
            return await self.app(scope, receive, send)
        received = []
        while True:  # the whole body (the edge middleware caps its size)
            message = await receive()
            received.append(message)
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
        pending = list(received)

        async def replay():  # the route reads the very messages received, then on as ever
            return pending.pop(0) if pending else await receive()

        if received[-1]["type"] != "http.request":  # the client went away: the route tells, as it always does
            return await self.app(scope, replay, send)
        response = await self._answer(scope, b"".join(m.get("body", b"") for m in received))
        if response is None:
            return await self.app(scope, replay, send)
        scope["route"] = _Route
        await response(scope, replay, send)

    async def _answer(self, scope, body: bytes):
        """The "full" response, an error of the booking limit, or None: on to the route."""
        headers: dict[bytes, str] = {}
        for name, value in scope[
            "headers"
        ]:  # one pass; the first of a repeated header counts, as in Starlette
            if name in _READ and name not in headers:
                headers[name] = value.decode("latin-1")
        scheme, _, token = headers.get(b"authorization", "").partition(" ")
        key = headers.get(b"idempotency-key")
        if (
            scheme.lower() != "bearer"
            or not token
            or key is None
            or not idempotency.KEY_RE.match(key)
            or not _json(headers.get(b"content-type", ""))
        ):
            return None
        try:
            found = identity.read_access_token(token)
            asked = BookingCreate.model_validate_json(body)
        except (NotAuthenticated, ValidationError):  # the route says why
            return None
        actor = found.actor
        patient_id = actor.patient_id
        if (
            asked.slot_id is not None
            or patient_id is None
            or asked.patient_id not in (None, patient_id)
            or not actor.has(Role.patient)
            or asked.channel != "online"
        ):
            return None
        # the account and the sign-in still stand (asked with other requests' tokens, in one read, on the
        # batches' own connections: the lane answers while other requests hold every shared one)
        try:
            if not await _tokens(self.engine).ask(found):
                return None  # the route refuses it, as for any request
        except (
            PoolTimeout,
            OSError,
            DBAPIError,
            asyncpg.InterfaceError,
            asyncpg.PostgresError,
            batches.NoAnswer,
        ):
            return None  # the route asks again the usual way (and meets the same trouble, or not)
        request = Request(scope)
        try:
            draw.limit(actor)
        except DomainError as exc:
            return domain_response(request, exc)
        scope.setdefault("state", {})[draw.COUNTED] = True  # the route must not count it again
        fingerprint = asked.fingerprint(patient_id)
        try:
            answer = await own_booking.book(
                self.engine,
                actor=actor,
                key=key,
                request_hash=idempotency.request_hash(fingerprint),
                session_id=asked.session_id,
            )
        except PoolTimeout:  # outside the framework's handlers: the same answer as theirs
            return busy_response(request)
        if answer == "full":
            return domain_response(request, SlotFull())
        if answer is None:
            return None
        if answer.replayed:
            return JSONResponse(answer.answer, status_code=201, headers={"Idempotent-Replayed": "true"})
        worker = getattr(scope["app"].state, "worker", None)
        if (
            worker is not None
        ):  # its booking event is in the outbox (the route's commit wakes it the same way)
            worker.wake()
        return JSONResponse(answer.answer, status_code=201)
