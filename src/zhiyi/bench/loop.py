"""The event loop the bench's own processes run on: uvloop, as the server (uvicorn) runs, where it is
installed (not on Windows or PyPy); else asyncio's own. The load generator and the anchor's driver
share the machine's cores with the server and the database, so their CPU per request counts."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

try:
    import uvloop
except ImportError:  # pragma: no cover - the platforms uvloop leaves out
    uvloop = None


def run(main: Coroutine[Any, Any, Any]) -> Any:
    if uvloop is not None:
        return uvloop.run(main)
    return asyncio.run(main)
