"""The HTTP protocol `zhiyi serve` runs (scheduling/rush/protocol.py): a response's writes of one
event-loop turn go out as one write, and nothing about HTTP changes (keep-alive, streaming, Connection:
close)."""

from __future__ import annotations

import asyncio
import socket

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

from zhiyi.domains.scheduling.rush.protocol import (
    GATHER_BYTES,
    CoalescingHttpToolsProtocol,
    CoalescingTransport,
)


class FakeTransport:
    def __init__(self):
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name, default=None):
        return ("127.0.0.1", 1234) if name == "peername" else default


async def test_writes_of_one_turn_go_out_as_one_and_close_sends_them_first():
    real = FakeTransport()
    transport = CoalescingTransport(real, asyncio.get_running_loop())
    transport.write(b"HTTP/1.1 200 OK\r\n\r\n")
    transport.write(b"{}")
    assert real.writes == []  # not yet: at the end of this turn
    await asyncio.sleep(0)
    assert real.writes == [b"HTTP/1.1 200 OK\r\n\r\n{}"]
    transport.write(b"last")
    transport.close()
    assert real.writes[-1] == b"last" and real.closed  # written before the close
    await asyncio.sleep(0)
    assert len(real.writes) == 2  # the scheduled flush finds nothing more to write
    assert transport.get_extra_info("peername") == ("127.0.0.1", 1234)  # the rest is the transport's own


async def test_a_large_write_goes_out_at_once_after_what_was_gathered():
    real = FakeTransport()
    transport = CoalescingTransport(real, asyncio.get_running_loop())
    transport.write(b"head")
    big = b"x" * GATHER_BYTES
    transport.write(big)
    assert real.writes == [b"head" + big]  # in order, without waiting for the loop's turn
    transport.writelines([b"a", b"b"])
    await asyncio.sleep(0)
    assert real.writes[-1] == b"ab"


async def _json(request):
    return JSONResponse({"n": int(request.query_params.get("n", 0))})


async def _stream(request):
    async def parts():
        for i in range(3):
            yield f"part{i};".encode()
            await asyncio.sleep(0.01)

    return StreamingResponse(parts(), media_type="text/plain")


async def test_a_server_on_it_answers_as_http_wants():
    app = Starlette(routes=[Route("/json", _json), Route("/stream", _stream)])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, http=CoalescingHttpToolsProtocol, log_level="warning", lifespan="off")
    )
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            await asyncio.sleep(0.01)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            # one kept-alive connection
            answers = [await client.get("/json", params={"n": n}) for n in range(5)]
            assert [a.json()["n"] for a in answers] == list(range(5))
            streamed = await client.get("/stream")
            assert streamed.text == "part0;part1;part2;"
            head = await client.head("/json")
            assert head.status_code == 200 and head.content == b""
        # Connection: close: the whole answer arrives before the server closes
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /json?n=7 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        raw = await asyncio.wait_for(reader.read(), 5)  # until the server closes
        writer.close()
        assert raw.startswith(b"HTTP/1.1 200") and raw.endswith(b'{"n":7}')
    finally:
        server.should_exit = True
        await serving
