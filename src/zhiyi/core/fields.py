"""Validated field types shared by every domain's schemas.

Free text that lands in records is held to an allow-list (letters of any script,
digits, spaces and ordinary punctuation), so markup and SQL fragments are refused
with a 422 at the edge instead of being stored and shown later.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints

_NAME_RE = re.compile(r"^[^\W\d_](?:[^\W\d_]|[ ·.'\-])*$", re.UNICODE)
_TEXT_PUNCT = set(" ,.'-()#/·、，。（）：:！!？?&+")
_PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
_FORBIDDEN_SEQ = ("--", "/*", "*/")


def _no_controls(v: str) -> str:
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co") for c in v):
        raise ValueError("contains control characters")
    return v


def _person_name(v: str) -> str:
    v = " ".join(_no_controls(v).split())
    if not _NAME_RE.match(v) or "--" in v:
        raise ValueError("a name has letters, spaces, · . ' or - only")
    return v


def _plain_text(v: str) -> str:
    v = " ".join(_no_controls(v).split())
    bad = {c for c in v if not (c.isalnum() or c in _TEXT_PUNCT)}
    if bad or any(s in v for s in _FORBIDDEN_SEQ):
        raise ValueError("contains characters that are not allowed here")
    return v


def _phone(v: str) -> str:
    v = v.strip().replace(" ", "").replace("-", "")
    if v.startswith("+86"):
        v = v[3:]
    if not _PHONE_RE.match(v):
        raise ValueError("a mainland mobile number has 11 digits starting with 1")
    return v


PersonName = Annotated[str, StringConstraints(min_length=1, max_length=60), AfterValidator(_person_name)]
PlainText = Annotated[str, StringConstraints(max_length=200), AfterValidator(_plain_text)]
Phone = Annotated[str, StringConstraints(min_length=11, max_length=16), AfterValidator(_phone)]
Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.\-]{1,40}$")]


class Strict(BaseModel):
    """Request bodies refuse unknown fields."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
