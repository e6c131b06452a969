"""The structured pre-visit summary derived from a response: chief complaint, history of present
illness, past history, medications, allergies and red flags.

It is stored beside the response, language-neutral (questions in both languages, answers as
values), and put into the reader's language when shown.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal

from zhiyi.core.i18n import N_, Translator
from zhiyi.domains.preconsult.enablewhen import Coding, Value, condition_holds
from zhiyi.domains.preconsult.forms import SECTIONS, Form, Item, bilingual, lang_of, red_rule_condition
from zhiyi.domains.preconsult.schemas import SummaryEntry

YES, NO = N_("Yes"), N_("No")


def is_red_flag(item: Item, value: Value) -> bool:
    if isinstance(value, Coding):
        option = item.option(value)
        return bool(option and option.red_flag)
    rule = item.red_rule
    if rule is None:
        return False
    if "valueBoolean" in rule:
        return value is True and rule["valueBoolean"] is True
    op, expected = red_rule_condition(rule)
    return not isinstance(value, bool) and condition_holds(op, [value], expected)


def _stored_value(item: Item, v: Value) -> dict:
    if isinstance(v, bool):
        return {"boolean": v}
    if isinstance(v, Coding):
        option = item.option(v)
        return {"code": v.code, "display": option.display if option else {"zh-CN": v.code, "en": v.code}}
    if isinstance(v, int | Decimal):
        return {"number": str(v)}
    if isinstance(v, dt.date):
        return {"date": v.isoformat()}
    return {"text": v}


def summarize(form: Form, answers: Mapping[str, list[Value]]) -> dict:
    """{"sections": {section: [entry]}, "red_flags": [entry]}; an entry is {"link_id", "question":
    {lang: text}, "answers": [value], "red_flag"}. Hidden items and unanswered questions are left out."""
    sections: dict[str, list[dict]] = {s: [] for s in SECTIONS}
    flags = []
    for item in form.items.values():
        values = answers.get(item.link_id)
        if not item.is_question or item.hidden or not values:
            continue
        red = [v for v in values if is_red_flag(item, v)]
        entry = {
            "link_id": item.link_id,
            "question": bilingual(item.raw, "text"),
            "answers": [_stored_value(item, v) for v in values],
            "red_flag": bool(red),
        }
        if item.section in sections and not (item.section == "red-flags" and not red):
            sections[item.section].append(entry)
        if red:
            flags.append({**entry, "answers": [_stored_value(item, v) for v in red]})
    return {"sections": sections, "red_flags": flags}


def answer_text(value: dict, t: Translator) -> str:
    lang = lang_of(t.locale)
    if "boolean" in value:
        word = YES if value["boolean"] else NO
        return t.gettext(word)
    if "display" in value:
        return value["display"].get(lang) or value["code"]
    if "date" in value:
        return t.format.date(dt.date.fromisoformat(value["date"]), "medium")
    return str(value.get("number", value.get("text", "")))


def localize(entries: list[dict], t: Translator) -> list[SummaryEntry]:
    lang = lang_of(t.locale)
    return [
        SummaryEntry(
            link_id=e["link_id"],
            question=e["question"].get(lang) or e["question"].get("zh-CN", ""),
            answer="; ".join(answer_text(v, t) for v in e["answers"]),
            red_flag=e["red_flag"],
        )
        for e in entries
    ]
