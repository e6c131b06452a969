"""One-code identity (一码通): an opaque, encrypted, expiring token of a patient, shown as a QR code on
their phone and scanned at desks. Public through service.py."""

from __future__ import annotations

import uuid

import segno

from zhiyi.core import security
from zhiyi.core.config import get_settings
from zhiyi.domains.patients.errors import OneCodeInvalid


def _secret() -> str:
    return get_settings().data_secret


def issue_onecode(*, patient_id: uuid.UUID) -> str:
    """An opaque, encrypted, expiring token; it carries the internal id, never the ID number."""
    return security.seal(_secret(), "onecode", f"p:{patient_id}")


def onecode_svg(token: str, *, scale: int = 6) -> str:
    return segno.make(token, error="m").svg_inline(scale=scale, dark="#000", light="#fff", omitsize=True)


def resolve_onecode(*, token: str) -> uuid.UUID:
    ttl = get_settings().qr_token_minutes * 60
    try:
        value = security.unseal(_secret(), "onecode", token.strip(), ttl_seconds=ttl)
        kind, raw = value.split(":", 1)
        if kind != "p":
            raise ValueError(kind)
        return uuid.UUID(raw)
    except (security.TokenInvalid, ValueError):
        raise OneCodeInvalid() from None
