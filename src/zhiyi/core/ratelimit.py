"""Rate limits per key (an account, say) in this server process: a sliding window of request
times. With N server processes an account gets at most N times the limit; the release draw
(domains/scheduling/draw.py), not this limit, is what makes hammering useless at a release."""

from __future__ import annotations

import time
from collections import deque

from zhiyi.core.errors import TooManyRequests

MAX_KEYS = 100_000  # forget the oldest keys beyond this (bounded memory)


class Limiter:
    def __init__(self, limit: int, per_seconds: float):
        self.limit, self.per = limit, per_seconds
        self._hits: dict[object, deque[float]] = {}

    def hit(self, key: object, now: float | None = None) -> None:
        """Count one request for `key`; raise TooManyRequests (with Retry-After) over the limit."""
        now = time.monotonic() if now is None else now
        hits = self._hits.pop(key, None) or deque()
        while hits and hits[0] <= now - self.per:
            hits.popleft()
        self._hits[key] = hits  # re-inserted: the dict's order is least recently used first
        if len(hits) >= self.limit:
            retry = max(1, int(hits[0] + self.per - now) + 1)
            raise TooManyRequests(
                "Too many booking requests; try again in a moment.",
                code="rate_limited",
                headers={"Retry-After": str(retry)},
            )
        hits.append(now)
        if len(self._hits) > MAX_KEYS:
            del self._hits[next(iter(self._hits))]
