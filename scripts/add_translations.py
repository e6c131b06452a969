"""Add messages to both catalogues: `python scripts/add_translations.py FILE.json`
where FILE.json maps each English msgid to its Simplified Chinese text.
English gets msgstr = msgid. Existing entries are updated."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

LOCALE_DIR = Path(__file__).resolve().parents[1] / "src" / "zhiyi" / "locale"


def add(pairs: dict[str, str]) -> None:
    for locale in ("zh_CN", "en"):
        path = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
        with path.open("rb") as fh:
            catalog = read_po(fh, locale=locale)
        for msgid, zh in pairs.items():
            catalog.add(msgid, zh if locale == "zh_CN" else msgid)
        with path.open("wb") as fh:
            write_po(fh, catalog, width=100, omit_header=False)


if __name__ == "__main__":
    add(json.loads(Path(sys.argv[1]).read_text(encoding="utf-8")))
