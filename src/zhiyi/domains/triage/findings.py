"""What the text says: the lexicon's symptoms (with negation and past history marked) and the
red flags whose every part is present now."""

from __future__ import annotations

import re
from dataclasses import dataclass

from zhiyi.domains.triage import text as T
from zhiyi.domains.triage.knowledge import Knowledge, RedFlag

_PREGNANT = re.compile(r"怀孕|孕\d|孕期|孕妇|妊娠|怀了|有了宝宝|停经|pregnan|expecting a baby|weeks? along")


@dataclass(frozen=True, slots=True)
class Found:
    symptom_id: str
    term: str
    start: int
    negated: bool
    historical: bool

    @property
    def present(self) -> bool:
        return not self.negated and not self.historical


def symptoms(kn: Knowledge, text: str) -> list[Found]:
    """Every lexicon term in the (normalized) text, in order."""
    out = []
    for m in kn.term_regex.finditer(text):
        term = m.group()
        neg, hist = T.negated(text, m.start()), T.historical(text, m.start())
        for sid in kn.term_symptoms.get(term, ()):
            out.append(Found(sid, term, m.start(), neg, hist))
    return out


def mentions_pregnancy(text: str) -> bool:
    m = _PREGNANT.search(text)
    return m is not None and not T.negated(text, m.start())


def red_flags(kn: Knowledge, text: str, *, age_years: float | None, pregnant: bool) -> list[RedFlag]:
    """The rules that fire: some pattern of theirs has, in every group, a term present now (not
    negated, not past history); age and pregnancy conditions hold."""
    hits: dict[str, bool] = {}
    plain = T.without_degree_words(text)
    forms = (text,) if plain == text else (text, plain)

    def present(term: str) -> bool:
        if term not in hits:
            hits[term] = any(
                not T.negated(form, m.start()) and not T.historical(form, m.start())
                for form in forms
                for m in kn.flag_regexes[term].finditer(form)
            )
        return hits[term]

    def mentioned(term: str) -> bool:
        return any(kn.flag_regexes[term].search(form) for form in forms)

    fired = []
    for flag in kn.red_flags:
        if flag.max_age_months is not None and (age_years is None or age_years * 12 >= flag.max_age_months):
            continue
        if flag.min_age_years is not None and (age_years is None or age_years < flag.min_age_years):
            continue
        if flag.pregnancy and not pregnant:
            continue
        if not any(all(any(present(t) for t in group) for group in pattern) for pattern in flag.patterns):
            continue
        if (
            flag.unless
            and any(mentioned(t) for t in flag.unless)
            and not any(mentioned(t) for t in flag.acute)
        ):
            continue  # a lasting condition, nothing new
        fired.append(flag)
    return fired
