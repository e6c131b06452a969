"""Triage of one complaint, without a database: red flags first (an emergency is never sent to a
clinic), then the classifier and the lexicon rank departments, the hospital's age, sex and
pregnancy rules apply, and when it is unsure it asks a few questions or hands over to a person."""

from __future__ import annotations

import enum
import functools
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from zhiyi.domains.triage import classifier, findings, knowledge, rules
from zhiyi.domains.triage import text as T

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

EMERGENCY = "EM"
MODEL_WEIGHT = 0.7  # the classifier's share of a department's score; the lexicon's symptoms have the rest
EM_MODEL_THRESHOLD = 0.4  # the classifier alone calls an emergency when this sure of it (recall first)
UNSURE_BELOW = 0.40  # a first department scored lower than this asks questions
HANDOVER_BELOW = 0.22  # ... and after the questions (or with nothing medical in the text) offers a person
ABDOMEN = ("upper_abdomen", "lower_abdomen", "pelvis_genitals")
MIN_SHOWN = 0.03  # a second or third department less likely than this is noise, not a suggestion
QUESTIONS = ("duration", "fever", "body")  # asked when unsure, in this order, each once


class Outcome(enum.StrEnum):
    emergency = "emergency"  # call 120 / go to the emergency department now
    departments = "departments"  # up to three departments
    ask = "ask"  # departments so far, and questions whose answers would sharpen them
    handover = "handover"  # not medical enough or too unsure: a person at the service desk
    unclear = "unclear"  # no word of it is known (gibberish, a keyboard's row): ask the person to describe it


@dataclass(frozen=True, slots=True)
class Suggestion:
    code: str
    confidence: float
    symptom_ids: tuple[str, ...]  # the recognised symptoms that point here


@dataclass(frozen=True)
class Assessment:
    outcome: Outcome
    language: str
    suggestions: tuple[Suggestion, ...] = ()
    red_flags: tuple[str, ...] = ()  # rule ids
    symptom_ids: tuple[str, ...] = ()  # present symptoms, in the order written
    rules: tuple[str, ...] = ()  # the hospital rules that changed the ranking
    questions: tuple[str, ...] = ()
    age_years: float | None = None
    pregnant: bool = False


_lock = threading.Lock()


@functools.cache
def _model() -> Pipeline:
    with _lock:
        return classifier.load()


def warm() -> None:
    """Loads the knowledge, the segmenter and the model (about a second), so that timings measure triage
    alone."""
    kn = knowledge.knowledge()
    T.tokens("预热")
    _model()
    assess("头痛", kn=kn)


def reload() -> None:
    _model.cache_clear()


def assess(
    text: str,
    *,
    age: float | None = None,
    sex: str | None = None,
    pregnant: bool | None = None,
    body: str | None = None,
    answers: dict[str, str] | None = None,
    kn: knowledge.Knowledge | None = None,
) -> Assessment:
    kn = kn or knowledge.knowledge()
    answers = {k: v for k, v in (answers or {}).items() if k in QUESTIONS and v}
    body = body if body in kn.body_parts else None
    body = body or (answers.get("body") if answers.get("body") in kn.body_parts else None)
    normalized = T.normalize(text[: T.MAX_CHARS])
    lang = T.language(normalized) if T.has_content(normalized) else "zh"
    written = T.age_from_text(normalized)
    if age is None or (age < 1 and written is not None and written < 1):
        age = written if written is not None else age  # "8个月" says more than an age of 0 years
    elif written is not None and written < rules.CHILD_AGE <= age:
        age = written  # an adult asking about a child ("我家2个月大的宝宝"): the child's age routes
    is_pregnant = sex != "M" and (bool(pregnant) or findings.mentions_pregnancy(normalized))
    found = findings.symptoms(kn, normalized)
    if (
        answers.get("fever") == "yes"
        and "fever" in kn.symptoms
        and not any(f.symptom_id == "fever" and f.present for f in found)
    ):
        found.append(findings.Found("fever", "", len(normalized), False, False))
    # symptoms not negated: the complaint now, or its history (which still names the department)
    present = list(dict.fromkeys(f.symptom_id for f in found if not f.negated))

    # red flags err towards the emergency: a fever answered to our question counts, pregnancy
    # written in the text counts whoever types it ("我老婆怀孕32周"), and an age written in the text
    # ("我家2个月大的宝宝") counts as well as the one on the record of the account that asks
    flag_text = normalized + ("，发热" if answers.get("fever") == "yes" else "")
    flag_pregnant = is_pregnant or findings.mentions_pregnancy(normalized)
    flags = findings.red_flags(kn, flag_text, age_years=age, pregnant=flag_pregnant)
    if not flags and written is not None and written != age:
        flags = findings.red_flags(kn, flag_text, age_years=written, pregnant=flag_pregnant)
    if flags:
        return Assessment(
            Outcome.emergency,
            lang,
            (Suggestion(EMERGENCY, 1.0, tuple(present)),),
            red_flags=tuple(f.id for f in flags),
            symptom_ids=tuple(present),
            age_years=age,
            pregnant=flag_pregnant,
        )
    if not T.has_content(normalized) and not body:
        return Assessment(Outcome.handover, lang, age_years=age)  # nothing medical in the text

    pipe = _model()
    if not present and not body and not answers and not _known_words(pipe, normalized):
        # a guess from nothing would be a department at random
        return Assessment(Outcome.unclear, lang, age_years=age)
    extra = [f"ANS:{k}={v}" for k, v in answers.items() if k != "body"]
    feats = classifier.features(
        kn, normalized, age=age, sex=sex, pregnant=is_pregnant, body=body, found=found, extra=extra
    )
    proba = pipe.predict_proba([feats])[0]
    scores = {str(c): float(p) for c, p in zip(pipe.classes_, proba, strict=True)}
    if scores.get(EMERGENCY, 0.0) >= EM_MODEL_THRESHOLD:
        return Assessment(
            Outcome.emergency,
            lang,
            (Suggestion(EMERGENCY, scores[EMERGENCY], tuple(present)),),
            red_flags=("classifier",),
            symptom_ids=tuple(present),
            age_years=age,
            pregnant=is_pregnant,
        )
    scores.pop(EMERGENCY, None)

    lexical = _lexicon_scores(kn, present, body)
    if lexical:
        scores = {
            c: MODEL_WEIGHT * scores.get(c, 0.0) + (1 - MODEL_WEIGHT) * lexical.get(c, 0.0)
            for c in set(scores) | set(lexical)
        }
    related = is_pregnant and (
        any(kn.symptoms[s].pregnancy for s in present)
        or bool(set(ABDOMEN) & {b for s in present for b in kn.symptoms[s].body})
        or body in ABDOMEN
        or not present
    )
    scores, applied = rules.apply(
        scores, age_years=age, sex=sex, pregnant=is_pregnant, pregnancy_related=related
    )
    scores.pop(EMERGENCY, None)
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)[:3]
    ranked = ranked[:1] + [kv for kv in ranked[1:] if kv[1] >= MIN_SHOWN]
    suggestions = tuple(
        Suggestion(code, round(conf, 3), _pointing(kn, present, code)) for code, conf in ranked
    )
    top = ranked[0][1] if ranked else 0.0

    outcome = Outcome.departments
    questions: tuple[str, ...] = ()
    if top < UNSURE_BELOW:
        questions = open_questions(answers=answers, body=body, present=present)
        if questions and not answers:
            outcome = Outcome.ask
        elif not present or top < HANDOVER_BELOW:
            outcome = Outcome.handover  # the best guesses go with it, for the person who takes over
    return Assessment(
        outcome,
        lang,
        suggestions,
        symptom_ids=tuple(present),
        rules=tuple(applied),
        questions=questions if outcome is Outcome.ask else (),
        age_years=age,
        pregnant=is_pregnant,
    )


def _known_words(pipe: Pipeline, normalized: str) -> bool:
    """Whether a word of the text (two characters or more) is one the classifier learned from."""
    vocabulary = pipe.named_steps["tfidf"].vocabulary_
    return any(len(w) > 1 and w in vocabulary for w in T.tokens(normalized))


def open_questions(*, answers: dict, body: str | None, present: list[str] | set[str]) -> tuple[str, ...]:
    """The questions still worth asking: not answered, and not already told (a body part, a fever)."""
    return tuple(
        q
        for q in QUESTIONS
        if q not in answers and not (q == "body" and body) and not (q == "fever" and "fever" in present)
    )


def _lexicon_scores(kn: knowledge.Knowledge, present: list[str], body: str | None) -> dict[str, float]:
    scores: dict[str, float] = {}
    for sid in present:
        for code, w in kn.symptoms[sid].departments.items():
            scores[code] = scores.get(code, 0.0) + w
    if not scores and body:
        for sid in kn.body_parts[body].complaints[:3]:
            for code, w in kn.symptoms[sid].departments.items():
                scores[code] = scores.get(code, 0.0) + w / 3
    total = sum(scores.values())
    return {c: s / total for c, s in scores.items()} if total else {}


def _pointing(kn: knowledge.Knowledge, present: list[str], code: str) -> tuple[str, ...]:
    """The present symptoms whose usual departments include `code` or its group."""
    top = kn.catalogue.top(code) if code in kn.catalogue.parent else code
    return tuple(
        s
        for s in present
        if any(
            c == code or (c in kn.catalogue.parent and kn.catalogue.top(c) == top)
            for c in kn.symptoms[s].departments
        )
    ) or tuple(present)
