"""The registration rush's fast path, behind one setting (ZHIYI_RUSH_LANE; docs/rush.md).

At a release of 1,000 places to 5,000 patients, everything here exists only to answer faster; the
booking rules are the usual path's (scheduling/service.py, and the SQL functions that apply them).
With the lane off, every request takes the usual path and every booking test still passes.

- lane.py: a pure-ASGI layer that answers a patient's own booking of a session before the framework
  ("booked" or "full", through own_booking.py);
- own_booking.py: a patient's own booking of a session in one statement;
- batches.py: the questions of several requests asked in one round trip;
- pool.py: the batches' own connections, made and prepared at start, and the start-up freezing;
- protocol.py: uvicorn's HTTP protocol with a response's writes coalesced (`zhiyi serve` with the lane).
"""

from __future__ import annotations

from zhiyi.core.config import Settings


def enabled(settings: Settings) -> bool:
    """Whether the lane runs: ZHIYI_RUSH_LANE, else on with PostgreSQL (production) and off with
    SQLite (the embedded tier: the lane's statements are PostgreSQL functions)."""
    on_postgresql = not settings.async_database_url.startswith("sqlite")
    return on_postgresql and (settings.rush_lane is None or settings.rush_lane)
