"""The one source of time, so tests can freeze it. Stored times are UTC."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

_frozen: dt.datetime | None = None


def now() -> dt.datetime:
    return _frozen if _frozen is not None else dt.datetime.now(dt.UTC)


def today(tz: str = "Asia/Shanghai") -> dt.date:
    return now().astimezone(ZoneInfo(tz)).date()


def freeze(at: dt.datetime | None) -> None:
    """Freeze the clock at `at` (aware datetime); None unfreezes."""
    global _frozen
    _frozen = at
