"""The statistical department classifier: a logistic regression (scikit-learn) over the words of
the complaint (jieba words and character pairs for Chinese, words for English), the lexicon's
symptoms found in it, the body part, and age, sex and pregnancy bands.

It is built from what the repository ships (`data/train.jsonl`, the lexicon's phrasings) and,
after `zhiyi triage retrain`, the outcomes stored in the database (suggestions patients said
helped, departments doctors reassigned). A model file is named by the hash of what it was built
from, so a changed corpus or feature code builds a new one."""

from __future__ import annotations

import hashlib
import json
import os
import random
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import joblib

if TYPE_CHECKING:  # scikit-learn is imported where a model is trained or loaded, not at start-up
    from sklearn.pipeline import Pipeline

from zhiyi.domains.triage import findings, knowledge
from zhiyi.domains.triage import text as T

FEATURES_VERSION = "3"  # bump when features() changes: old model files no longer fit
MODEL_DIR_ENV = "ZHIYI_TRIAGE_MODEL_DIR"


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    department: str
    age: float | None = None
    sex: str | None = None
    pregnant: bool = False
    body: str | None = None


def age_band(age: float | None) -> str:
    if age is None:
        return "AGE:?"
    for limit, band in (
        (0.25, "infant3m"),
        (1, "infant"),
        (6, "small"),
        (14, "child"),
        (45, "adult"),
        (65, "middle"),
    ):
        if age < limit:
            return f"AGE:{band}"
    return "AGE:old"


def features(
    kn: knowledge.Knowledge,
    normalized: str,
    *,
    age: float | None,
    sex: str | None,
    pregnant: bool,
    body: str | None,
    found: list[findings.Found] | None = None,
    extra: list[str] | None = None,
) -> list[str]:
    found = findings.symptoms(kn, normalized) if found is None else found
    out = T.tokens(normalized)
    for f in found:  # past history still points to the department (a stroke last year: Neurology)
        out.append(("NOSYM:" if f.negated else "SYM:") + f.symptom_id)
        if not f.negated:
            out.append("SYM:" + f.symptom_id)  # the lexicon's word counts twice
    out.append(age_band(age))
    out.append(f"SEX:{sex or '?'}")
    if pregnant:
        out.append("PREG")
    if body:
        out.append(f"BODY:{body}")
    return out + (extra or [])


def _identity(doc: list[str]) -> list[str]:
    return doc


def read_jsonl(path: Path) -> list[dict]:
    rows = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if line:
                rows.append(json.loads(line))
    return rows


def corpus(kn: knowledge.Knowledge, outcomes: list[Example] | None = None) -> list[Example]:
    """The shipped training lines, one line per lexicon phrasing (labelled with its symptom's most
    usual department; its body part on a share of them, as a body-map tap would add), and outcomes."""
    rows = [r for path in training_files() for r in read_jsonl(path)]
    out = [
        Example(
            text=r["text"],
            department=r["department"],
            age=r.get("age"),
            sex=r.get("sex"),
            pregnant=bool(r.get("pregnant")),
        )
        for r in rows
        if r["department"] in kn.catalogue.parent
    ]
    rng = random.Random(7)
    for s in kn.symptoms.values():
        if not s.departments:
            continue
        codes = [c for c in s.departments if c in kn.catalogue.parent]
        if not codes:
            continue
        best = max(codes, key=lambda c: s.departments[c])
        for term in s.terms:
            body = s.body[0] if s.body and rng.random() < 0.3 else None
            out.append(Example(text=term, department=best, body=body, sex=s.sex, pregnant=s.pregnancy))
    return out + list(outcomes or [])


def training_files() -> list[Path]:
    """The shipped corpus: train.jsonl and any further train-*.jsonl beside it."""
    return sorted(knowledge.DATA.glob("train*.jsonl"))


def fingerprint(outcomes: list[Example] | None = None) -> str:
    h = hashlib.sha256(FEATURES_VERSION.encode())
    for path in [*training_files(), knowledge.DATA / "symptoms.json", knowledge.DATA / "body_parts.json"]:
        h.update(path.name.encode())
        h.update(path.read_bytes())
    h.update(Path(__file__).read_bytes())
    h.update(Path(T.__file__).read_bytes())
    for o in outcomes or []:
        h.update(
            json.dumps([o.text, o.department, o.age, o.sex, o.pregnant, o.body], ensure_ascii=False).encode()
        )
    return h.hexdigest()[:16]


def train(kn: knowledge.Knowledge, examples: list[Example]) -> Pipeline:
    docs = [
        features(kn, T.normalize(e.text), age=e.age, sex=e.sex, pregnant=e.pregnant, body=e.body)
        for e in examples
    ]
    labels = [e.department for e in examples]
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    pipe = Pipeline(
        [
            ("tfidf", TfidfVectorizer(analyzer=_identity, sublinear_tf=True, min_df=1)),
            ("clf", LogisticRegression(C=8.0, max_iter=3000)),
        ]
    )
    pipe.fit(docs, labels)
    return pipe


def model_dir() -> Path:
    return Path(os.environ.get(MODEL_DIR_ENV) or Path.cwd() / "var" / "triage")


def base_path() -> Path:
    return model_dir() / f"base-{fingerprint()}.joblib"


RETRAINED = "retrained.joblib"


def build(force: bool = False) -> Path:
    """The base model built from the repository's data (kept; built again only when that changed)."""
    path = base_path()
    if path.exists() and not force:
        return path
    kn = knowledge.knowledge()
    pipe = train(kn, corpus(kn))
    _save(path, {"pipeline": pipe, "base": fingerprint()})
    for old in path.parent.glob("base-*.joblib"):  # models of earlier data
        if old != path:
            old.unlink(missing_ok=True)
    return path


def retrain(outcomes: list[Example]) -> Path:
    """A model of the shipped data and the stored outcomes; used instead of the base model while
    the shipped data stays the same."""
    kn = knowledge.knowledge()
    pipe = train(kn, corpus(kn, outcomes))
    path = model_dir() / RETRAINED
    _save(path, {"pipeline": pipe, "base": fingerprint(), "outcomes": len(outcomes)})
    return path


def _save(path: Path, saved: dict) -> None:
    """Written beside and renamed into place: a reader never sees half a file, and builders in
    several processes do not collide."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    joblib.dump(saved, tmp)
    os.replace(tmp, path)


def load() -> Pipeline:
    """The retrained model when it was built on today's shipped data, else the base model (built
    now if missing)."""
    retrained = model_dir() / RETRAINED
    if retrained.exists():
        saved = joblib.load(retrained)
        if saved.get("base") == fingerprint():
            return saved["pipeline"]
    return joblib.load(build())["pipeline"]
