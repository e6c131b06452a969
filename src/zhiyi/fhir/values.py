"""The values FHIR search compares, as both the index and the query parser compute them: folded text,
date and dateTime ranges in microseconds UTC, decimals with their implicit precision."""

from __future__ import annotations

import calendar
import datetime as dt
import re
import unicodedata
from decimal import Decimal, InvalidOperation

__all__ = [
    "MAX_US",
    "MIN_US",
    "date_bounds",
    "decimal_bounds",
    "fold",
    "parse_reference",
    "period_bounds",
    "to_decimal",
]

_US_PER_SECOND = 1_000_000
_US_PER_DAY = 86_400 * _US_PER_SECOND
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()

MIN_US = (dt.date(1, 1, 1).toordinal() - _EPOCH_ORDINAL) * _US_PER_DAY
"""0001-01-01T00:00:00Z in microseconds since the Unix epoch."""
MAX_US = (dt.date(9999, 12, 31).toordinal() - _EPOCH_ORDINAL + 1) * _US_PER_DAY - 1
"""9999-12-31T23:59:59.999999Z in microseconds since the Unix epoch."""


def fold(text: str) -> str:
    """Text as string search compares it: compatibility-decomposed, without combining marks,
    case-folded, whitespace runs collapsed to one space and stripped ("Chälmers " -> "chalmers").
    Scripts without case or marks (Chinese) are unchanged."""
    if text.isascii():
        return " ".join(text.casefold().split())
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    # Recompose what NFKD split without marks (Hangul syllables) so the folded text stays readable.
    return " ".join(unicodedata.normalize("NFC", bare).split())


# FHIR date, dateTime and instant, and search's dateTime with minutes only. Seconds and zone optional.
_DATE_RE = re.compile(
    r"(?P<year>\d{4})"
    r"(?:-(?P<month>\d{2})"
    r"(?:-(?P<day>\d{2})"
    r"(?:T(?P<hour>\d{2}):(?P<minute>\d{2})"
    r"(?::(?P<second>\d{2})(?:\.(?P<fraction>\d+))?)?"
    r"(?P<zone>Z|[+-]\d{2}:\d{2})?"
    r")?)?)?"
)


def date_bounds(text: str) -> tuple[int, int]:
    """The inclusive range of microseconds UTC a FHIR date, dateTime or instant covers at the precision
    it is written with: "2013-01" -> (2013-01-01T00:00:00.000000Z, 2013-01-31T23:59:59.999999Z).
    A value without a zone is taken as UTC. Raises ValueError when `text` is not such a value."""
    match = _DATE_RE.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"not a FHIR date, dateTime or instant: {text!r}")
    parts = match.groupdict()
    year = int(parts["year"])
    if year < 1:
        raise ValueError(f"year 0000 is not a valid FHIR date: {text!r}")
    month = int(parts["month"]) if parts["month"] else None
    if month is not None and not 1 <= month <= 12:
        raise ValueError(f"month {month} out of range in {text!r}")
    day = int(parts["day"]) if parts["day"] else None
    if day is not None and not 1 <= day <= calendar.monthrange(year, month)[1]:
        raise ValueError(f"day {day} out of range in {text!r}")

    if day is None:
        first = dt.date(year, month or 1, 1)
        last_month = month or 12
        last = dt.date(year, last_month, calendar.monthrange(year, last_month)[1])
        low_day, high_day = first.toordinal() - _EPOCH_ORDINAL, last.toordinal() - _EPOCH_ORDINAL
        return _clamp(low_day * _US_PER_DAY, (high_day + 1) * _US_PER_DAY - 1)

    day_us = (dt.date(year, month, day).toordinal() - _EPOCH_ORDINAL) * _US_PER_DAY
    if parts["hour"] is None:
        return _clamp(day_us, day_us + _US_PER_DAY - 1)

    hour, minute = int(parts["hour"]), int(parts["minute"])
    if hour > 23 or minute > 59:
        raise ValueError(f"time of day out of range in {text!r}")
    low = day_us + (hour * 3600 + minute * 60) * _US_PER_SECOND
    if parts["second"] is None:
        width = 60 * _US_PER_SECOND
    else:
        second = int(parts["second"])
        if second > 59:
            raise ValueError(f"second {second} out of range in {text!r}")
        low += second * _US_PER_SECOND
        fraction = parts["fraction"]
        if fraction is None:
            width = _US_PER_SECOND
        else:
            digits = fraction[:6]
            low += int(digits.ljust(6, "0"))
            width = 10 ** (6 - len(digits))
    low -= _zone_offset_us(parts["zone"], text)
    return _clamp(low, low + width - 1)


def _zone_offset_us(zone: str | None, text: str) -> int:
    if zone is None or zone == "Z":
        return 0
    hours, minutes = int(zone[1:3]), int(zone[4:6])
    if hours > 14 or minutes > 59:
        raise ValueError(f"time zone {zone} out of range in {text!r}")
    offset = (hours * 3600 + minutes * 60) * _US_PER_SECOND
    return -offset if zone[0] == "-" else offset


def _clamp(low: int, high: int) -> tuple[int, int]:
    return max(low, MIN_US), min(high, MAX_US)


def period_bounds(period: dict) -> tuple[int, int]:
    """A Period's range: its start's first microsecond (MIN_US when open) to its end's last (MAX_US)."""
    start, end = period.get("start"), period.get("end")
    low = date_bounds(start)[0] if start else MIN_US
    high = date_bounds(end)[1] if end else MAX_US
    return low, high


_DECIMAL_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def to_decimal(value: object) -> Decimal:
    """A FHIR number (JSON int, float or Decimal, or its text) as a Decimal; floats go through their
    shortest repr, so 0.1 stays 0.1. Raises ValueError for booleans, NaN, infinities and non-numbers."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"not a finite number: {value!r}")
        return value
    if isinstance(value, bool):
        raise ValueError(f"not a number: {value!r}")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return to_decimal(repr(value))
    if isinstance(value, str) and _DECIMAL_RE.fullmatch(value.strip()):
        try:
            return Decimal(value.strip())
        except InvalidOperation:  # pragma: no cover - the pattern admits only valid literals
            pass
    raise ValueError(f"not a number: {value!r}")


def decimal_bounds(text: str) -> tuple[Decimal, Decimal]:
    """The range a number written in a search stands for, by its implicit precision: half a unit of
    its last written digit either side. "100" -> [99.5, 100.5), "100.00" -> [99.995, 100.005),
    "1e2" -> [50, 150). The low bound is inclusive, the high bound exclusive."""
    number = to_decimal(text)
    half = Decimal(5).scaleb(number.as_tuple().exponent - 1)
    return number - half, number + half


_ID = r"[A-Za-z0-9\-.]{1,64}"
_RELATIVE_RE = re.compile(rf"(?P<type>[A-Z][A-Za-z]+)/(?P<id>{_ID})(?:/_history/{_ID})?")
_ABSOLUTE_RE = re.compile(
    rf"(?P<url>[a-z][a-z0-9+.-]*://.+?/(?P<type>[A-Z][A-Za-z]+)/(?P<id>{_ID}))(?:/_history/{_ID})?"
)


def parse_reference(text: str) -> tuple[str | None, str | None, str | None] | None:
    """(target type, target id, absolute url) of a Reference.reference: "Patient/1" and
    "Patient/1/_history/2" -> ("Patient", "1", None); "http://x/fhir/Patient/1" -> ("Patient", "1",
    "http://x/fhir/Patient/1") (version dropped); "urn:uuid:..." and other absolute URIs -> (None, None,
    the URI). None for what points nowhere searchable: contained ("#x"), empty or malformed."""
    if not text or text[0] == "#":
        return None
    if match := _RELATIVE_RE.fullmatch(text):
        return match["type"], match["id"], None
    if match := _ABSOLUTE_RE.fullmatch(text):
        return match["type"], match["id"], match["url"]
    if ":" in text and " " not in text:
        return None, None, text
    return None
