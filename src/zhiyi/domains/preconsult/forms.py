"""The pre-consultation questionnaires: FHIR R4 Questionnaire resources kept as JSON files in
questionnaires/, checked when loaded (fhir.resources, then the rules this domain relies on), and
chosen for a department by its catalogue code.

Conventions (all standard FHIR, or extensions of our own under zhiyi.example):
- text is written in Chinese (Questionnaire.language zh-CN) with the English in the standard
  translation extension on `_text` / `_display` / `_title`;
- a questionnaire names its department with useContext `venue` (code system
  https://zhiyi.example/fhir/CodeSystem/department); one without is the general fallback. A
  questionnaire of a group (PED) serves its subspecialties (PED.GEN) unless one is more specific;
- hidden items (questionnaire-hidden) are filled by the server from the patient's record (our
  `prefill` extension: patient-sex, patient-age), so skip logic can ask pregnancy questions only
  of women of child-bearing age;
- our `red-flag` extension marks warning answers: on a boolean item (answer yes), on an
  answerOption (that option), or with `operator` and `answer[x]` sub-extensions on a number item;
- our `summary-section` extension on a top-level group says where its answers go in the
  doctor's summary.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from fhir.resources.R4B.questionnaire import Questionnaire
from pydantic import ValidationError

from zhiyi.domains.preconsult.enablewhen import (
    ANSWER_KEYS,
    OPERATORS,
    Coding,
    CycleError,
    SkipLogic,
    expected_value,
    walk,
)

FOLDER = Path(__file__).resolve().parent / "questionnaires"
BASE = "https://zhiyi.example/fhir"
TRANSLATION = "http://hl7.org/fhir/StructureDefinition/translation"
HIDDEN = "http://hl7.org/fhir/StructureDefinition/questionnaire-hidden"
RED_FLAG = f"{BASE}/StructureDefinition/red-flag"
SECTION = f"{BASE}/StructureDefinition/summary-section"
PREFILL = f"{BASE}/StructureDefinition/prefill"
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
DEPARTMENT_SYSTEM = f"{BASE}/CodeSystem/department"
SECTIONS = ("chief-complaint", "present-illness", "past-history", "medications", "allergies", "red-flags")
PREFILLS = ("patient-sex", "patient-age")
LANGS = ("zh-CN", "en")
BASE_LANG = "zh-CN"
# item type -> the value[x] of its answers
VALUE_KEYS = {
    "boolean": "valueBoolean",
    "choice": "valueCoding",
    "string": "valueString",
    "text": "valueString",
    "integer": "valueInteger",
    "decimal": "valueDecimal",
    "date": "valueDate",
}
COMPATIBLE = {
    "boolean": ("answerBoolean",),
    "choice": ("answerCoding",),
    "string": ("answerString",),
    "text": ("answerString",),
    "integer": ("answerInteger", "answerDecimal"),
    "decimal": ("answerDecimal", "answerInteger"),
    "date": ("answerDate",),
}
UNORDERED = ("boolean", "choice")  # compared with = and != only
MAX_STRING, MAX_TEXT = 200, 2000  # the longest answers, when an item sets no shorter maxLength


class QuestionnaireInvalid(ValueError):
    """A questionnaire file that this domain cannot use (raised at load: a deployment error)."""


def lang_of(locale: str) -> str:
    return "en" if locale.startswith("en") else "zh-CN"


def text(element: dict, key: str, lang: str) -> str:
    """`element[key]` in the language asked for (translation extension on `_key`), else as written."""
    base = element.get(key) or ""
    if lang == BASE_LANG:
        return base
    for ext in (element.get(f"_{key}") or {}).get("extension") or []:
        if ext.get("url") != TRANSLATION:
            continue
        parts = {e.get("url"): e for e in ext.get("extension") or []}
        if (parts.get("lang") or {}).get("valueCode", "").split("-")[0] == lang.split("-")[0]:
            return (parts.get("content") or {}).get("valueString") or base
    return base


def bilingual(element: dict, key: str) -> dict[str, str]:
    return {lang: text(element, key, lang) for lang in LANGS}


def _ext(element: dict, url: str) -> dict | None:
    return next((e for e in element.get("extension") or [] if e.get("url") == url), None)


@dataclass(frozen=True)
class Option:
    coding: Coding
    display: dict[str, str]
    red_flag: bool


@dataclass(frozen=True)
class Item:
    """One item of a questionnaire, with what the server needs to check its answers."""

    link_id: str
    type: str
    raw: dict
    parent: str | None
    section: str | None
    required: bool = False
    repeats: bool = False
    max_length: int | None = None
    min_value: Decimal | None = (
        None  # numeric items: the range an answer must fall in (FHIR minValue/maxValue)
    )
    max_value: Decimal | None = None
    hidden: bool = False
    prefill: str | None = None
    options: tuple[Option, ...] = ()
    red_rule: dict | None = None  # the red-flag extension on the item itself

    @property
    def is_question(self) -> bool:
        return self.type in VALUE_KEYS

    def option(self, coding: Coding) -> Option | None:
        return next((o for o in self.options if o.coding.matches(coding)), None)

    def text(self, lang: str) -> str:
        return text(self.raw, "text", lang)


@dataclass
class Form:
    """A loaded questionnaire: the resource as written, its items by linkId, its skip logic."""

    resource: dict
    url: str
    version: str
    department: str | None
    items: dict[str, Item] = field(default_factory=dict)
    logic: SkipLogic | None = None

    @property
    def canonical(self) -> str:
        return f"{self.url}|{self.version}"

    @property
    def top(self) -> list[dict]:
        return self.resource["item"]

    def title(self, lang: str) -> str:
        return text(self.resource, "title", lang)


def load_form(resource: dict, name: str = "questionnaire") -> Form:
    """Check a Questionnaire (FHIR structure, then our rules) and index it."""
    if resource.get("resourceType") != "Questionnaire":
        raise QuestionnaireInvalid(f"{name}: not a Questionnaire")
    try:
        Questionnaire.model_validate(resource)
    except ValidationError as exc:
        raise QuestionnaireInvalid(f"{name}: {exc.errors()[:3]}") from None
    for key in ("url", "version", "item"):
        if not resource.get(key):
            raise QuestionnaireInvalid(f"{name}: {key} is required")
    if resource.get("status") != "active" or resource.get("language", BASE_LANG) != BASE_LANG:
        raise QuestionnaireInvalid(f"{name}: must be active and written in {BASE_LANG}")
    form = Form(
        resource=resource,
        url=resource["url"],
        version=resource["version"],
        department=_department(resource, name),
    )
    sections = {}
    for raw, parent in walk(resource["item"]):
        link_id = raw.get("linkId")
        if not link_id or link_id in form.items:
            raise QuestionnaireInvalid(f"{name}: missing or repeated linkId {link_id!r}")
        section_ext = _ext(raw, SECTION)
        if section_ext is not None:
            if parent is not None or section_ext.get("valueCode") not in SECTIONS:
                raise QuestionnaireInvalid(
                    f"{name}: {link_id}: summary-section goes on top-level groups, one of {SECTIONS}"
                )
            sections[link_id] = section_ext["valueCode"]
        form.items[link_id] = _item(
            raw, parent, sections.get(link_id) or sections.get(_root(form, parent)), name
        )
    try:
        form.logic = SkipLogic(resource["item"])
    except CycleError as exc:
        raise QuestionnaireInvalid(f"{name}: enableWhen conditions loop: {exc}") from None
    for item in form.items.values():
        _check_conditions(form, item, name)
    return form


def _root(form: Form, link_id: str | None) -> str | None:
    while link_id is not None and form.items[link_id].parent is not None:
        link_id = form.items[link_id].parent
    return link_id


def _department(resource: dict, name: str) -> str | None:
    codes = [
        c["code"]
        for ctx in resource.get("useContext") or []
        if (ctx.get("code") or {}).get("code") == "venue"
        for c in (ctx.get("valueCodeableConcept") or {}).get("coding") or []
        if c.get("system") == DEPARTMENT_SYSTEM
    ]
    if len(codes) > 1:
        raise QuestionnaireInvalid(f"{name}: one department a questionnaire")
    return codes[0] if codes else None


def _bilingual_or_fail(element: dict, key: str, where: str) -> None:
    if (
        element.get(key)
        and text(element, key, "en") == element[key]
        and not _ext(element.get(f"_{key}") or {}, TRANSLATION)
    ):
        raise QuestionnaireInvalid(f"{where}: {key} has no English translation")


def _item(raw: dict, parent: str | None, section: str | None, name: str) -> Item:
    link_id, typ = raw["linkId"], raw.get("type")
    where = f"{name}: {link_id}"
    if typ not in (*VALUE_KEYS, "group", "display"):
        raise QuestionnaireInvalid(f"{where}: item type {typ!r} is not supported")
    if typ == "group" and not raw.get("item"):
        raise QuestionnaireInvalid(f"{where}: a group needs items")
    if typ != "group" and raw.get("item"):
        raise QuestionnaireInvalid(f"{where}: only groups hold items")
    _bilingual_or_fail(raw, "text", where)
    options = []
    for o in raw.get("answerOption") or []:
        c = o.get("valueCoding")
        if typ != "choice" or not c or not c.get("code"):
            raise QuestionnaireInvalid(f"{where}: answer options are codings of choice items")
        _bilingual_or_fail(c, "display", where)
        flag = _ext(o, RED_FLAG)
        options.append(
            Option(
                Coding(c.get("system"), c["code"]),
                bilingual(c, "display"),
                bool(flag and flag.get("valueBoolean")),
            )
        )
    if typ == "choice" and not options:
        raise QuestionnaireInvalid(f"{where}: a choice needs answer options")
    hidden = bool((_ext(raw, HIDDEN) or {}).get("valueBoolean"))
    prefill = (_ext(raw, PREFILL) or {}).get("valueCode")
    if prefill is not None and (prefill not in PREFILLS or not hidden):
        raise QuestionnaireInvalid(f"{where}: prefill is one of {PREFILLS}, on hidden items")
    red = _ext(raw, RED_FLAG)
    if red is not None:
        _check_red_rule(red, typ, where)
    max_length = raw.get("maxLength")
    if typ in ("string", "text"):
        cap = MAX_STRING if typ == "string" else MAX_TEXT
        max_length = min(max_length or cap, cap)
    low, high = _bound(raw, MIN_VALUE, typ, where), _bound(raw, MAX_VALUE, typ, where)
    if typ in ("integer", "decimal") and (low is None or high is None or low > high):
        raise QuestionnaireInvalid(f"{where}: a number question declares its range (minValue and maxValue)")
    return Item(
        link_id=link_id,
        type=typ,
        raw=raw,
        parent=parent,
        section=section,
        required=bool(raw.get("required")),
        repeats=bool(raw.get("repeats")),
        max_length=max_length,
        min_value=low,
        max_value=high,
        hidden=hidden,
        prefill=prefill,
        options=tuple(options),
        red_rule=red,
    )


def _bound(raw: dict, url: str, typ: str, where: str) -> Decimal | None:
    ext = _ext(raw, url)
    if ext is None:
        return None
    value = ext.get(VALUE_KEYS.get(typ, ""))
    if typ not in ("integer", "decimal") or isinstance(value, bool) or not isinstance(value, int | float):
        raise QuestionnaireInvalid(
            f"{where}: minValue and maxValue go on number questions, with a number of their type"
        )
    return Decimal(str(value))


def _check_red_rule(red: dict, typ: str, where: str) -> None:
    if "valueBoolean" in red:
        if typ != "boolean":
            raise QuestionnaireInvalid(
                f"{where}: red-flag valueBoolean goes on boolean items (or on answer options)"
            )
        return
    parts = {e.get("url"): e for e in red.get("extension") or []}
    op = (parts.get("operator") or {}).get("valueCode")
    answer = [k for k in parts if k in ANSWER_KEYS]
    if typ not in ("integer", "decimal") or op not in OPERATORS[1:] or len(answer) != 1:
        raise QuestionnaireInvalid(
            f"{where}: a red-flag rule is an operator and an answer[x] on a number item"
        )


def red_rule_condition(rule: dict) -> tuple[str, object]:
    parts = {e.get("url"): e for e in rule.get("extension") or []}
    key = next(k for k in parts if k in ANSWER_KEYS)
    value_key = "value" + key.removeprefix("answer")
    return parts["operator"]["valueCode"], expected_value({key: parts[key][value_key]})


def _check_conditions(form: Form, item: Item, name: str) -> None:
    conditions = item.raw.get("enableWhen") or []
    where = f"{name}: {item.link_id}"
    if len(conditions) > 1 and item.raw.get("enableBehavior") not in ("all", "any"):
        raise QuestionnaireInvalid(f"{where}: several enableWhen conditions need enableBehavior all or any")
    for c in conditions:
        target = form.items.get(c.get("question"))
        op = c.get("operator")
        keys = [k for k in c if k.startswith("answer")]
        if target is None or not target.is_question:
            raise QuestionnaireInvalid(
                f"{where}: enableWhen asks about {c.get('question')!r}, which is no question here"
            )
        if op not in OPERATORS or len(keys) != 1 or keys[0] not in ANSWER_KEYS:
            raise QuestionnaireInvalid(
                f"{where}: enableWhen needs a known operator and one supported answer[x]"
            )
        if op == "exists":
            if keys[0] != "answerBoolean":
                raise QuestionnaireInvalid(f"{where}: exists takes answerBoolean")
            continue
        if keys[0] not in COMPATIBLE[target.type] or (target.type in UNORDERED and op not in ("=", "!=")):
            raise QuestionnaireInvalid(
                f"{where}: {keys[0]} {op} does not fit {target.link_id} ({target.type})"
            )
        if target.type == "choice" and target.option(expected_value(c)) is None:
            raise QuestionnaireInvalid(f"{where}: {c['answerCoding']} is not an option of {target.link_id}")


class Catalogue:
    """Every questionnaire by department code, and the general one."""

    def __init__(self, forms: list[Form]):
        self.by_department: dict[str, Form] = {}
        self.by_url: dict[str, Form] = {}
        general = [f for f in forms if f.department is None]
        if len(general) != 1:
            raise QuestionnaireInvalid("exactly one general questionnaire (without a department) is needed")
        self.general = general[0]
        for f in forms:
            if f.department in self.by_department or f.url in self.by_url:
                raise QuestionnaireInvalid(f"{f.url}: a second questionnaire for {f.department or f.url}")
            if f.department:
                self.by_department[f.department] = f
            self.by_url[f.url] = f

    def for_departments(self, codes: list[str]) -> Form:
        """The questionnaire of the most specific department in `codes` (the department first, then
        its parent groups) that has one; else the general one."""
        return next((self.by_department[c] for c in codes if c in self.by_department), self.general)

    def __iter__(self):
        return iter(self.by_url.values())


def load_folder(folder: Path) -> Catalogue:
    forms = []
    for path in sorted(folder.glob("*.json")):
        try:
            resource = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise QuestionnaireInvalid(f"{path.name}: {exc}") from None
        forms.append(load_form(resource, path.name))
    return Catalogue(forms)


@lru_cache(maxsize=1)
def catalogue() -> Catalogue:
    """The questionnaires shipped with Zhiyi, loaded and checked once per process."""
    return load_folder(FOLDER)
