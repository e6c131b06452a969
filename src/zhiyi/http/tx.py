"""One database session per request, committed before the response is sent.

`TxRoute` wraps every route: a 2xx/3xx commits; an error rolls back, then writes
the rows kept for after a rollback (audit of denials, login failures) and commits those.
The session opens lazily, so routes that never touch the database pay nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.core.db import take_kept


async def _rollback_keeping(session: AsyncSession) -> None:
    kept = take_kept(session)
    await session.rollback()
    if kept:
        session.add_all(kept)
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
