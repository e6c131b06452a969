"""One FHIR interaction as plain values: the request the router is given and the response it gives back,
and the small pieces of HTTP semantics every interaction shares (ETag, Last-Modified, Prefer, If-Match).
Transport-free: the HTTP binding (api.py) and the Bundle processor both speak it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import format_datetime
from http import HTTPStatus
from urllib.parse import parse_qsl, urlencode

from zhiyi.fhir.errors import Issue, invalid, operation_outcome
from zhiyi.fhir.store import Stored

__all__ = [
    "FhirRequest",
    "FhirResponse",
    "conditional_criteria",
    "etag",
    "http_date",
    "informational",
    "instant",
    "parse_if_match",
    "parse_query",
    "preferences",
    "query_string",
    "status_line",
]


@dataclass(frozen=True, slots=True)
class FhirRequest:
    """`path` is what follows the FHIR base ("Patient/1/_history/2", "" for the base itself); `query` keeps
    the parameters in their order (a form-encoded _search body already merged in); header names are
    lower-case."""

    method: str
    path: str
    query: list[tuple[str, str]] = field(default_factory=list)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: dict | None = None
    base_url: str = ""
    # A transaction's id for a POST entry, chosen before processing so that the references to its
    # urn:uuid fullUrl could be rewritten; never set by the HTTP binding.
    assigned_id: str | None = None


@dataclass(slots=True)
class FhirResponse:
    status: int
    body: dict | None = None
    headers: dict[str, str] = field(default_factory=dict)
    # The version this answer is about (read, create, update, delete), so that a Bundle's entry can say
    # its etag and lastModified without parsing the headers back.
    stored: Stored | None = None


def etag(version: int) -> str:
    return f'W/"{version}"'


def _utc(at: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes; the store keeps UTC in both backends
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at.astimezone(dt.UTC)


def http_date(at: dt.datetime) -> str:
    """RFC 1123, as Last-Modified wants it ("Wed, 21 Oct 2015 07:28:00 GMT")."""
    return format_datetime(_utc(at), usegmt=True)


def instant(at: dt.datetime) -> str:
    """A FHIR instant ("2015-10-21T07:28:00.123456Z")."""
    return _utc(at).isoformat().replace("+00:00", "Z")


def status_line(status: int) -> str:
    """A Bundle entry's response.status: the code and its reason phrase ("201 Created")."""
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def preferences(headers: Mapping[str, str]) -> dict[str, str]:
    """The Prefer header's preferences (RFC 7240: comma-separated, parameters after ';' ignored)."""
    raw = headers.get("prefer")
    if not raw:
        return {}
    found = {}
    for part in raw.split(","):
        token, _, value = part.split(";", 1)[0].strip().partition("=")
        if token:
            found[token.strip().lower()] = value.strip().strip('"').lower()
    return found


def parse_if_match(raw: str | None) -> int | None:
    """If-Match: W/"3" (the weak ETag this server sends), or a bare "3"."""
    if raw is None or not raw.strip():
        return None
    value = raw.strip()
    if value.startswith("W/"):
        value = value[2:]
    value = value.strip('"')
    if not value.isdigit():
        raise invalid(f'If-Match must be a version ETag such as W/"3", not {raw!r}', status=400)
    return int(value)


def query_string(params: list[tuple[str, str]]) -> str:
    # the characters FHIR search values use (token system|code, comma lists, prefixes) stay readable
    return urlencode(params, safe=":|,/$")


def parse_query(raw: str) -> list[tuple[str, str]]:
    # blank values kept: "name=" is a parameter the store must see (and refuse or ignore)
    return parse_qsl(raw, keep_blank_values=True)


def conditional_criteria(raw: str, rtype: str) -> list[tuple[str, str]]:
    """If-None-Exist's search: "identifier=a|b", also written "Patient?identifier=a|b" or "?identifier=...".
    An empty one would match everything: refused."""
    found = parse_query(raw.split("?", 1)[1] if "?" in raw else raw)
    if not found:
        raise invalid(f"Empty search criteria for a conditional {rtype} interaction.")
    return found


def informational(diagnostics: str) -> dict:
    return operation_outcome([Issue("informational", diagnostics, severity="information")])
