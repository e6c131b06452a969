"""Live pages (static/zhiyi-live.js): a Server-Sent Events stream that sends what a page shows
whenever what it shows has changed (a version the domain reads), a heartbeat while nothing does,
and stops when the page's signer-in no longer stands (a disabled account, a signed-out device)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable

from fastapi import Request
from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from zhiyi.core.errors import DomainError, NotAuthenticated
from zhiyi.http.auth import web_session_stands

HEARTBEAT_SECONDS = 15


def stream(
    request: Request,
    *,
    version: Callable[[], Awaitable[int]],
    fragment: Callable[[AsyncSession], Awaitable[dict]],
    poll: float,
    lifetime: float,
) -> StreamingResponse:
    """Whenever `version()` changes, send `fragment` (built in a short database session of its own,
    committed: reads of patient data are audited). If the reader may no longer see it (a refusal),
    the page is told to reload."""
    db = request.app.state.db

    async def events() -> AsyncIterator[str]:
        last, quiet, waited = None, 0.0, 0.0
        yield "retry: 2000\n\n"
        while waited < lifetime and not await request.is_disconnected():
            now = await version()
            if now != last or quiet >= HEARTBEAT_SECONDS:
                try:
                    async with db.sessionmaker() as session:
                        # a disabled or signed-out account's open page stops at its next change or heartbeat
                        if not await web_session_stands(request, session):
                            raise NotAuthenticated()
                        data = await fragment(session) if now != last else None
                        await session.commit()
                except DomainError:
                    yield f"data: {json.dumps({'version': now, 'reload': True})}\n\n"
                    return
                quiet = 0.0
                if data is None:
                    yield ": still here\n\n"
                else:
                    last = now
                    yield f"data: {json.dumps({'version': now, **data}, ensure_ascii=False)}\n\n"
            await asyncio.sleep(poll)
            quiet, waited = quiet + poll, waited + poll

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
