"""Helpers for HTML forms: readable names of invalid fields, in the user's language."""

from __future__ import annotations

import uuid

from pydantic import ValidationError

from zhiyi.core.errors import NotFound
from zhiyi.core.i18n import N_, Translator

FIELD_LABELS = {
    "phone": N_("Mobile phone number"),
    "code": N_("Verification code"),
    "password": N_("Password"),
    "name": N_("Name as on your ID card"),
    "id_number": N_("Resident ID number"),
    "insurance_type": N_("Insurance"),
    "insurance_number": N_("Insurance number"),
    "emergency_contact_name": N_("Emergency contact"),
    "emergency_contact_phone": N_("Emergency contact phone"),
    "relationship": N_("Relationship"),
}


REQUIRED = N_("required")
REASONS = {
    "missing": REQUIRED,
    "string_pattern_mismatch": N_("not in the expected form"),
    "literal_error": N_("choose one of the options"),
    "enum": N_("choose one of the options"),
}


def _reason(t: Translator, e: dict) -> str:
    """Why a field was refused, in the user's language (pydantic's error as a person reads it)."""
    kind, ctx = e.get("type", ""), e.get("ctx") or {}
    if kind == "string_too_long":
        return t.ngettext(
            "at most %(num)d character", "at most %(num)d characters", int(ctx.get("max_length", 0))
        )
    if kind == "string_too_short":
        n = int(ctx.get("min_length", 1))
        return (
            t.gettext(REQUIRED)
            if n <= 1
            else t.ngettext("at least %(num)d character", "at least %(num)d characters", n)
        )
    if kind == "value_error" and "error" in ctx:  # core.fields' rules say why in words of the catalogue
        return t.gettext(str(ctx["error"]))
    return t.gettext(REASONS.get(kind, N_("not valid")))


def invalid_fields_message(t: Translator, exc: ValidationError) -> str:
    """ "Please check: Name as on your ID card (at most 60 characters)": each refused field and why."""
    parts: dict[str, str] = {}
    for e in exc.errors():
        key = str(e["loc"][0]) if e.get("loc") else "body"
        label = t.gettext(FIELD_LABELS.get(key, key))
        parts.setdefault(label, t.gettext("%(field)s (%(reason)s)", field=label, reason=_reason(t, e)))
    return t.gettext("Please check: %(fields)s", fields="; ".join(parts.values()))


def domain_error_message(t: Translator, exc) -> str:
    """A refusal's message and the reasons of its fields, each said once (a reason that repeats the
    message, as a bad ID number's does, is not said twice)."""
    message = t.gettext(exc.message, **getattr(exc, "params", {}))
    details = []
    for e in getattr(exc, "errors", None) or ():
        text = t.gettext(e.message)
        if text != message and text not in details:
            details.append(text)
    return message + (f" ({'; '.join(details)})" if details else "")


def parse_uuid(raw: object) -> uuid.UUID | None:
    """An id from a path, query or form field; None when missing or malformed (the page answers 404)."""
    try:
        return uuid.UUID(str(raw)) if raw else None
    except ValueError:
        return None


def path_id(raw: object) -> uuid.UUID:
    """An id in a page's path: a malformed one is a page that does not exist (404)."""
    found = parse_uuid(raw)
    if found is None:
        raise NotFound()
    return found


def safe_next(value: object, default: str = "/") -> str:
    """Only same-site paths, so a crafted link cannot bounce a user elsewhere."""
    if isinstance(value, str) and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value[:200]
    return default
