"""The private internals Zhiyi builds on, checked so that an upgrade that changes them fails here, not in a
rush: core/db.FairQueue is SQLAlchemy's asyncio pool queue's stand-in (pyproject pins SQLAlchemy < 2.2),
scheduling/rush/protocol.CoalescingHttpToolsProtocol subclasses uvicorn's httptools protocol
(uvicorn < 0.55)."""

from __future__ import annotations

import asyncio
import inspect

from sqlalchemy.pool import AsyncAdaptedQueuePool
from sqlalchemy.util import queue as sa_queue
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from zhiyi.core.db import FairPool, FairQueue
from zhiyi.domains.scheduling.rush.protocol import CoalescingHttpToolsProtocol


def test_sqlalchemys_pool_still_makes_its_queue_from_the_class_we_replace():
    assert (
        issubclass(FairQueue, sa_queue.QueueCommon)
        and hasattr(sa_queue, "Empty")
        and hasattr(sa_queue, "Full")
    )
    assert AsyncAdaptedQueuePool._queue_class is not None  # the attribute FairPool overrides
    pool = FairPool(lambda: None, pool_size=3)
    assert isinstance(pool._pool, FairQueue)  # the pool's idle connections are in our queue
    needed = {"put", "get", "put_nowait", "get_nowait", "empty", "full", "qsize"}
    assert needed <= {n for n, _ in inspect.getmembers(sa_queue.QueueCommon)}  # the interface we implement


def test_uvicorns_protocol_still_has_the_hooks_we_override():
    for name in ("connection_made", "on_response_complete"):
        assert callable(getattr(HttpToolsProtocol, name))
        ours, theirs = getattr(CoalescingHttpToolsProtocol, name), getattr(HttpToolsProtocol, name)
        assert list(inspect.signature(ours).parameters) == list(inspect.signature(theirs).parameters)
    assert "self.loop" in inspect.getsource(HttpToolsProtocol.__init__)  # the loop our transport is given
    assert "self.transport" in inspect.getsource(HttpToolsProtocol.connection_made)


async def test_a_fair_queue_hands_a_connection_back_to_the_longest_waiter():
    q = FairQueue(maxsize=2)
    first = asyncio.ensure_future(q._wait(1.0))
    second = asyncio.ensure_future(q._wait(1.0))
    await asyncio.sleep(0)  # both wait, in this order
    q.put_nowait("connection")
    assert await first == "connection" and not second.done()
    second.cancel()
