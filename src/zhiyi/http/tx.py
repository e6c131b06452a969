"""One database session per request, committed before the response is sent.

`TxRoute` wraps every route: a 2xx/3xx commits; an error rolls back, then applies the
writes kept for after a rollback (audit of denials, login failures, counted wrong
guesses) and commits those.
The session opens lazily, so routes that never touch the database pay nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.core.db import COMMIT_ANYWAY_KEY, KEEP_KEY, write_kept


async def _rollback_keeping(session: AsyncSession) -> None:
    if session.info.pop(COMMIT_ANYWAY_KEY, False):
        await write_kept(session)
        await session.commit()
        return
    kept = session.info.pop(KEEP_KEY, [])
    await session.rollback()
    if kept:
        session.info[KEEP_KEY] = kept
        await write_kept(session)
        await session.commit()


class TxRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            async with request.app.state.db.sessionmaker() as session:
                request.state.session = session
                try:
                    response = await handler(request)
                except BaseException:
                    await _rollback_keeping(session)
                    raise
                if response.status_code < 400:
                    await write_kept(session)  # a route that handled an error itself still keeps them
                    await session.commit()
                    worker = getattr(request.app.state, "worker", None)
                    if worker is not None and session.info.pop("zhiyi.outbox.published", False):
                        worker.wake()
                else:
                    await _rollback_keeping(session)
                return response

        return run


def session_of(request: Request) -> AsyncSession:
    return request.state.session
