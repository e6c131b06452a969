"""Message catalogues (Babel .po files under zhiyi/locale) and locale choice.

Source strings are English msgids; zh_CN and en catalogues translate them.
Catalogues are read once at start-up straight from the .po files, so no build
step can leave a stale .mo behind.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.messages.pofile import read_po
from babel.support import Format

from zhiyi.core.config import get_settings

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
LOCALES = ("zh_CN", "en")
DEFAULT = "zh_CN"


class Translator:
    def __init__(self, locale: str, messages: dict[str, str]):
        self.locale = locale
        self.messages = messages

    def gettext(self, msgid: str, **params: object) -> str:
        text = self.messages.get(msgid) or msgid
        return text % params if params else text

    def ngettext(self, singular: str, plural: str, n: int, **params: object) -> str:
        msgid = singular if n == 1 else plural
        return self.gettext(msgid, num=n, **params)

    @property
    def html_lang(self) -> str:
        return "zh-CN" if self.locale == "zh_CN" else "en"

    @property
    def format(self) -> Format:
        """Dates and times in the hospital's zone (stored times are UTC)."""
        return Format(self.locale, tzinfo=ZoneInfo(get_settings().timezone))


@lru_cache(maxsize=len(LOCALES))
def translator(locale: str) -> Translator:
    locale = locale if locale in LOCALES else DEFAULT
    path = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    messages: dict[str, str] = {}
    if path.exists():
        with path.open("rb") as fh:
            catalog = read_po(fh, locale=locale)
        for m in catalog:
            if m.id and isinstance(m.id, str) and m.string and not m.fuzzy:
                messages[m.id] = m.string
    return Translator(locale, messages)


def negotiate(accept_language: str | None, chosen: str | None = None, default: str = DEFAULT) -> str:
    """A user's explicit choice wins; then Accept-Language; then the hospital default."""
    if chosen in LOCALES:
        return chosen
    if accept_language:
        for part in accept_language.split(","):
            tag = part.split(";")[0].strip().lower()
            if tag.startswith("zh"):
                return "zh_CN"
            if tag.startswith("en"):
                return "en"
    return default if default in LOCALES else DEFAULT


def gettext_noop(msgid: str) -> str:
    """Marks a string for extraction where it is translated later."""
    return msgid


N_ = gettext_noop
