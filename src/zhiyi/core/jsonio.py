"""JSON in and out of the database and the FHIR endpoint: orjson, and the standard library for what it
refuses.

A FHIR decimal may be written with an exponent (1.0E+245); PostgreSQL's JSONB keeps it as a numeric and
gives it back as a 246-digit integer, which orjson cannot write. An integer longer than any FHIR integer
(32 bits, so well under 18 digits) therefore comes back as the decimal it was: a float.
"""

from __future__ import annotations

import json

import orjson

_LONGEST_INT = 18


def _int_or_decimal(text: str) -> int | float:
    return int(text) if len(text.lstrip("-")) <= _LONGEST_INT else float(text)


def loads(text: str | bytes):
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text, parse_int=_int_or_decimal)


def dumps_bytes(value, *, option: int = 0) -> bytes:
    try:
        return orjson.dumps(value, option=option)
    except TypeError:  # an integer past 64 bits
        indent = 2 if option & orjson.OPT_INDENT_2 else None
        return json.dumps(
            value, ensure_ascii=False, indent=indent, separators=None if indent else (",", ":")
        ).encode()


def dumps(value) -> str:
    return dumps_bytes(value).decode()
