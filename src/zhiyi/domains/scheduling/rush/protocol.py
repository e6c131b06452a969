"""uvicorn's httptools protocol, with a response's writes coalesced into one.

uvicorn writes a response's status line and headers, then its body, each straight to the socket:
two send() calls, two TCP segments and two wake-ups of the client for every small JSON answer. In a
registration rush those writes were a fifth of a server process's CPU (py-spy). Here small writes are
gathered and handed to the transport once: when the response is complete, or at the end of the event
loop's turn (a streamed response's parts, which wait in between). A large write goes straight out
after what was gathered, so flow control and memory see it as before. Everything else about the
transport (close, peer address, protocol switches) is the transport's own.
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# uvicorn's --http, as an import string
NAME = "zhiyi.domains.scheduling.rush.protocol:CoalescingHttpToolsProtocol"
GATHER_BYTES = 16 * 1024  # a write this large, or gathered writes this large, go out at once


class CoalescingTransport:
    """A transport whose small writes are gathered until `flush` (at the latest, the loop's next turn)."""

    __slots__ = ("transport", "loop", "pending", "size")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self.transport, self.loop = transport, loop
        self.pending: list[bytes] | None = None
        self.size = 0

    def write(self, data: bytes) -> None:
        if self.pending is None:
            self.pending, self.size = [], 0
            self.loop.call_soon(self.flush)
        self.pending.append(data)
        self.size += len(data)
        if self.size >= GATHER_BYTES:
            self.flush()

    def flush(self) -> None:
        pending, self.pending = self.pending, None
        if pending and not self.transport.is_closing():
            self.transport.write(pending[0] if len(pending) == 1 else b"".join(pending))

    def writelines(self, data) -> None:
        for part in data:
            self.write(part)

    def write_eof(self) -> None:
        self.flush()
        self.transport.write_eof()

    def close(self) -> None:  # what was written goes out before the connection closes
        self.flush()
        self.transport.close()

    def __getattr__(self, name: str):
        if name in CoalescingTransport.__slots__:  # not set yet (a copy): no lookup on a missing transport
            raise AttributeError(name)
        return getattr(self.transport, name)


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CoalescingTransport(transport, self.loop))

    def on_response_complete(self) -> None:
        # out now, not after what the request's task does next (metrics, the access log)
        self.transport.flush()
        super().on_response_complete()
