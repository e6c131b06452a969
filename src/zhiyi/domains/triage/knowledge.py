"""What triage knows, loaded once from the files in `data/` (their README says where they come
from): the symptom lexicon, the red-flag rules, the body-map regions, and the department
catalogue (zhiyi.domains.org.catalogue) with its names and aliases at every level."""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from zhiyi.domains.org import service as org
from zhiyi.domains.triage import text as T

DATA = Path(__file__).parent / "data"


class _Named:
    """Data with a Chinese and an English name."""

    __slots__ = ()
    name_zh: str
    name_en: str

    def name(self, lang: str) -> str:
        return self.name_zh if lang == "zh" else self.name_en


@dataclass(frozen=True, slots=True)
class Symptom(_Named):
    id: str
    name_zh: str
    name_en: str
    terms: tuple[str, ...]
    body: tuple[str, ...]
    departments: dict[str, float]
    common: bool = False
    sex: str | None = None
    pregnancy: bool = False


@dataclass(frozen=True, slots=True)
class RedFlag(_Named):
    id: str
    name_zh: str
    name_en: str
    patterns: tuple[tuple[tuple[str, ...], ...], ...]  # any pattern; every group of it; any term of a group
    max_age_months: float | None = None
    min_age_years: float | None = None
    pregnancy: bool = False
    # words of a lasting condition (rehabilitation, "still") keep the rule quiet, unless words of
    # something new ("suddenly", "this morning") are there too
    unless: tuple[str, ...] = ()
    acute: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class BodyPart(_Named):
    id: str
    view: str
    name_zh: str
    name_en: str
    complaints: tuple[str, ...]


@dataclass(frozen=True)
class Catalogue:
    """Department codes with their parents and every name a label may use."""

    parent: dict[str, str | None]
    names: dict[str, tuple[str, str]]  # code -> (zh, en)
    by_name: dict[str, str] = field(default_factory=dict)  # lower-cased name, alias or code -> code

    def resolve(self, label: str) -> str | None:
        return self.by_name.get(label.strip().lower())

    def within(self, code: str, ancestor: str) -> bool:
        """`code` is `ancestor` or one of its subspecialties."""
        seen: str | None = code
        while seen is not None:
            if seen == ancestor:
                return True
            seen = self.parent.get(seen)
        return False

    def top(self, code: str) -> str:
        while self.parent.get(code):
            code = self.parent[code]  # type: ignore[assignment]
        return code

    def name(self, code: str, lang: str) -> str:
        zh, en = self.names[code]
        return zh if lang == "zh" else en

    def leaves(self) -> list[str]:
        parents = {p for p in self.parent.values() if p}
        return [c for c in self.parent if c not in parents]


@dataclass(frozen=True)
class Knowledge:
    symptoms: dict[str, Symptom]
    red_flags: tuple[RedFlag, ...]
    body_parts: dict[str, BodyPart]
    catalogue: Catalogue
    term_regex: re.Pattern  # every symptom term, the longest first: a match's text is its term
    term_symptoms: dict[str, tuple[str, ...]]  # term -> symptom ids
    flag_regexes: dict[str, re.Pattern]  # red-flag term -> its pattern (regex terms and word-bounded English)


def _load(name: str) -> list[dict]:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def term_pattern(term: str) -> str:
    """A lexicon term as a regular expression: `re:` terms as written, English with word bounds,
    Chinese as a plain substring."""
    if term.startswith("re:"):
        return term[3:]
    escaped = re.escape(term)
    if T.CJK_RUN.search(term):
        return escaped
    return rf"(?<![a-z]){escaped}(?![a-z])"


def _variants(term: str) -> list[str]:
    """An English term with its last word in the singular and the plural ("red eye", "red eyes")."""
    if T.CJK_RUN.search(term) or not term[-1:].isalpha() or len(term) < 4:
        return [term]
    if term.endswith("ss") or term.endswith(("ing", "ed")):
        return [term]
    return [term, term[:-1]] if term.endswith("s") and not term.endswith("us") else [term, term + "s"]


def catalogue() -> Catalogue:
    parent: dict[str, str | None] = {}
    names: dict[str, tuple[str, str]] = {}
    by_name: dict[str, str] = {}
    for d in org.department_catalogue():
        parent[d.code] = d.parent_code
        names[d.code] = (d.name_zh, d.name_en)
    # codes and official names win over aliases when a word is both (aliases may repeat across levels)
    for d in org.department_catalogue():
        for alias in d.aliases:
            by_name.setdefault(alias.lower(), d.code)
    for d in org.department_catalogue():
        by_name[d.name_zh.lower()] = d.code
        by_name[d.name_en.lower()] = d.code
        by_name[d.code.lower()] = d.code
    return Catalogue(parent=parent, names=names, by_name=by_name)


@functools.cache
def knowledge() -> Knowledge:
    symptoms: dict[str, Symptom] = {}
    term_symptoms: dict[str, list[str]] = {}
    for s in _load("symptoms.json"):
        terms = tuple(
            dict.fromkeys(
                v
                for t in [*s.get("zh", []), *s.get("en", [])]
                if T.normalize(t)
                for v in _variants(T.normalize(t))
            )
        )
        sym = Symptom(
            id=s["id"],
            name_zh=s["name_zh"],
            name_en=s["name_en"],
            terms=terms,
            body=tuple(s.get("body", [])),
            departments=dict(s.get("departments", {})),
            common=bool(s.get("common")),
            sex=s.get("sex"),
            pregnancy=bool(s.get("pregnancy")),
        )
        symptoms[sym.id] = sym
        for t in terms:
            term_symptoms.setdefault(t, []).append(sym.id)
    flags = []
    flag_regexes: dict[str, re.Pattern] = {}
    for f in _load("red_flags.json"):
        patterns = []
        for pattern in f["patterns"]:
            groups = []
            for group in pattern:
                terms = tuple(t if t.startswith("re:") else T.normalize(t) for t in group)
                for t in terms:
                    flag_regexes.setdefault(t, re.compile(term_pattern(t)))
                groups.append(terms)
            patterns.append(tuple(groups))
        unless = tuple(t if t.startswith("re:") else T.normalize(t) for t in f.get("unless", []))
        acute = tuple(t if t.startswith("re:") else T.normalize(t) for t in f.get("acute", []))
        for t in unless + acute:
            flag_regexes.setdefault(t, re.compile(term_pattern(t)))
        flags.append(
            RedFlag(
                id=f["id"],
                name_zh=f["name_zh"],
                name_en=f["name_en"],
                patterns=tuple(patterns),
                max_age_months=f.get("max_age_months"),
                min_age_years=f.get("min_age_years"),
                pregnancy=bool(f.get("pregnancy")),
                unless=unless,
                acute=acute,
            )
        )
    parts = {
        p["id"]: BodyPart(
            id=p["id"],
            view=p.get("view", "front"),
            name_zh=p["name_zh"],
            name_en=p["name_en"],
            complaints=tuple(c for c in p.get("complaints", []) if c in symptoms),
        )
        for p in _load("body_parts.json")
    }
    ordered = sorted(term_symptoms, key=len, reverse=True)  # the longest term wins where terms overlap
    regex = re.compile("|".join(term_pattern(t) for t in ordered)) if ordered else re.compile("(?!)")
    T.add_words(ordered)
    return Knowledge(
        symptoms=symptoms,
        red_flags=tuple(flags),
        body_parts=parts,
        catalogue=catalogue(),
        term_regex=regex,
        term_symptoms={t: tuple(v) for t, v in term_symptoms.items()},
        flag_regexes=flag_regexes,
    )
