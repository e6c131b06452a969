"""uvicorn's httptools protocol, with a response's writes coalesced into one.

uvicorn writes a response's status line and headers, then its body, each straight to the socket:
two send() calls, two TCP segments and two wake-ups of the client for every small JSON answer. In a
registration rush those writes were a fifth of a server process's CPU (py-spy). Here the writes made
during one turn of the event loop (an ASGI app sends `http.response.start` and `http.response.body`
without waiting in between) are gathered and handed to the transport once, at the end of that turn.
Everything else about the transport (flow control, close, peer address) is the transport's own.
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

NAME = "zhiyi.http.protocol:CoalescingHttpToolsProtocol"  # uvicorn's --http, as an import string


class CoalescingTransport:
    """A transport whose writes of one event-loop turn go out as one write."""

    __slots__ = ("transport", "loop", "pending")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self.transport, self.loop = transport, loop
        self.pending: list[bytes] | None = None

    def write(self, data: bytes) -> None:
        if self.pending is None:
            self.pending = [data]
            self.loop.call_soon(self.flush)
        else:
            self.pending.append(data)

    def flush(self) -> None:
        pending, self.pending = self.pending, None
        if pending and not self.transport.is_closing():
            self.transport.write(b"".join(pending))

    def close(self) -> None:  # what was written goes out before the connection closes
        self.flush()
        self.transport.close()

    def __getattr__(self, name: str):
        return getattr(self.transport, name)


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CoalescingTransport(transport, self.loop))
