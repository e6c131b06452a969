"""Opaque page tokens: the last row's sort key, so the next page starts after it whatever was written
meanwhile (an offset would skip or repeat a resource when one before it is added or deleted)."""

from __future__ import annotations

import base64
import binascii
import datetime as dt

import orjson

from zhiyi.fhir.errors import invalid


def write(key: list) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(key)).decode().rstrip("=")


def forged():
    return invalid("The page link is not one this server made; search again.", expression="_cursor")


def read(token: str, length: int) -> list:
    try:
        key = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        key = None
    if not isinstance(key, list) or len(key) != length:
        raise forged()
    return key


def read_history(token: str) -> tuple[dt.datetime, int, int]:
    """A history page's key: (updated_at, res_pk, version)."""
    at, pk, version = read(token, 3)
    if not (isinstance(at, str) and isinstance(pk, int) and isinstance(version, int)):
        raise forged()
    try:
        return dt.datetime.fromisoformat(at), pk, version
    except ValueError:
        raise forged() from None
