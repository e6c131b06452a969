"""Helpers for HTML forms: readable names of invalid fields, in the user's language."""

from __future__ import annotations

import uuid

from pydantic import ValidationError

from zhiyi.core.errors import NotFound
from zhiyi.core.i18n import N_, Translator

FIELD_LABELS = {
    "phone": N_("Mobile phone number"), "code": N_("Verification code"), "password": N_("Password"),
    "name": N_("Name as on your ID card"), "id_number": N_("Resident ID number"),
    "insurance_type": N_("Insurance"), "insurance_number": N_("Insurance number"),
    "emergency_contact_name": N_("Emergency contact"), "emergency_contact_phone": N_("Emergency contact phone"),
    "relationship": N_("Relationship"),
}


def invalid_fields_message(t: Translator, exc: ValidationError) -> str:
    names = []
    for e in exc.errors():
        key = str(e["loc"][0]) if e.get("loc") else "body"
        label = t.gettext(FIELD_LABELS.get(key, key))
        if label not in names:
            names.append(label)
    return t.gettext("Please check: %(fields)s", fields=", ".join(names))


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
