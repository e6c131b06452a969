"""Validated field types shared by every domain's schemas.

Short text that lands in records (names, addresses, relations) is held to an allow-list (letters of
any script, digits, spaces and ordinary punctuation), so markup and SQL fragments are refused with a
422 at the edge instead of being stored and shown later. Longer free text a person types (a
complaint, a chat message, an answer) is `FreeText`: any script and punctuation, line breaks, but
never NUL or another control character, a lone surrogate, a private-use character or a bidirectional
control (U+202E and its kind reorder what a desk agent reads).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints

from zhiyi.core.i18n import N_

_NAME_RE = re.compile(r"^[^\W\d_](?:[^\W\d_]|[ ·.'\-])*$", re.UNICODE)
_TEXT_PUNCT = set(" ,.'-()#/·、，。（）：:！!？?&+")
_PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
_FORBIDDEN_SEQ = ("--", "/*", "*/")


BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
LINE_CONTROLS = frozenset("\n\r\t")


def is_safe_text(v: str) -> bool:
    return not any(
        c in BIDI_CONTROLS or (unicodedata.category(c) in ("Cc", "Cs", "Co") and c not in LINE_CONTROLS)
        for c in v
    )


def _safe_text(v: str) -> str:
    if not is_safe_text(v):
        raise ValueError(N_("contains characters that are not allowed (control, bidirectional or unpaired)"))
    return v


def _no_controls(v: str) -> str:
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co") for c in v):
        raise ValueError(N_("contains control characters"))
    return v


def _person_name(v: str) -> str:
    v = " ".join(_no_controls(v).split())
    if not _NAME_RE.match(v) or "--" in v:
        raise ValueError(N_("a name has letters, spaces, · . ' or - only"))
    return v


def _plain_text(v: str) -> str:
    v = " ".join(_no_controls(v).split())
    bad = {c for c in v if not (c.isalnum() or c in _TEXT_PUNCT)}
    if bad or any(s in v for s in _FORBIDDEN_SEQ):
        raise ValueError(N_("contains characters that are not allowed here"))
    return v


def _phone(v: str) -> str:
    v = v.strip().replace(" ", "").replace("-", "")
    if v.startswith("+86"):
        v = v[3:]
    if not _PHONE_RE.match(v):
        raise ValueError(N_("a mainland mobile number has 11 digits starting with 1"))
    return v


PersonName = Annotated[str, StringConstraints(min_length=1, max_length=60), AfterValidator(_person_name)]
PlainText = Annotated[str, StringConstraints(max_length=200), AfterValidator(_plain_text)]
Phone = Annotated[str, StringConstraints(min_length=11, max_length=16), AfterValidator(_phone)]
Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.\-]{1,40}$")]
FreeText = Annotated[str, AfterValidator(_safe_text)]  # bound its length where used: Field(max_length=...)


class Strict(BaseModel):
    """Request bodies refuse unknown fields."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
