"""Every user-facing string has a zh_CN and an en translation; locale choice works.

No database: these tests read source files and catalogues only.
"""

from __future__ import annotations

import importlib.util
import re
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from zhiyi.core.i18n import LOCALE_DIR, LOCALES, negotiate, translator

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdrifg]")


def _load_extractor():
    spec = importlib.util.spec_from_file_location(
        "extract_messages", ROOT / "scripts" / "extract_messages.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def msgids() -> list[str]:
    ids = _load_extractor().msgids()
    assert "Log in" in ids and "No such patient." in ids  # templates and error classes both found
    return ids


def _catalogue(locale: str) -> dict[str, str]:
    with (LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return {m.id: m.string for m in read_po(fh, locale=locale) if m.id and not m.fuzzy}


@pytest.mark.parametrize("locale", LOCALES)
def test_every_message_is_translated(msgids, locale):
    catalogue = _catalogue(locale)
    missing = [m for m in msgids if not catalogue.get(m)]
    assert not missing, f"{locale} lacks translations for: {missing}"


@pytest.mark.parametrize("locale", LOCALES)
def test_placeholders_survive_translation(msgids, locale):
    catalogue = _catalogue(locale)
    wrong = [
        (m, catalogue[m])
        for m in msgids
        if catalogue.get(m) and Counter(PLACEHOLDER.findall(m)) != Counter(PLACEHOLDER.findall(catalogue[m]))
    ]
    assert not wrong, f"{locale} placeholders differ: {wrong}"


def test_english_catalogue_is_identity(msgids):
    catalogue = _catalogue("en")
    assert all(catalogue.get(m) == m for m in msgids)


def test_chinese_is_translated():
    zh = translator("zh_CN")
    assert zh.gettext("Log in") != "Log in"
    assert zh.gettext("Hello, %(name)s", name="李华") == "李华，您好"
    assert translator("en").gettext("Log in") == "Log in"


def test_notification_templates_are_marked(msgids):
    from zhiyi.integrations.notifications import TEMPLATES

    assert set(TEMPLATES.values()) <= set(msgids)


def test_negotiate():
    assert negotiate("zh-CN", chosen="en") == "en"
    assert negotiate("en-US,en;q=0.9", chosen="zh_CN") == "zh_CN"
    assert negotiate("en-US,en;q=0.9") == "en"
    assert negotiate("zh-CN") == "zh_CN"
    assert negotiate(None) == "zh_CN"
    assert negotiate("fr-FR", chosen="de") == "zh_CN"
