"""Per-request context (request id, client address) carried by contextvars."""

from __future__ import annotations

from contextvars import ContextVar

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
client_addr: ContextVar[str | None] = ContextVar("client_addr", default=None)
