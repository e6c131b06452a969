"""`zhiyi triage eval FILE.jsonl`: triage every line and score it.

A line is `{"text": ..., "age": ..., "sex": ..., "department": ..., "emergency": true?}`; the
department is a catalogue code, an English or Chinese name or alias at any level, or a list of
them (any one counts). A prediction is right when it is that department or one of its
subspecialties. Labels that map to nothing are reported and left out, never scored."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from zhiyi.domains.triage import engine, knowledge

EMERGENCY = engine.EMERGENCY


@dataclass
class Case:
    line: int
    text: str
    labels: list[str]  # codes
    emergency: bool
    age: float | None
    sex: str | None
    pregnant: bool


@dataclass
class Report:
    n: int = 0
    top1: int = 0
    top3: int = 0
    emergencies: int = 0  # lines that are emergencies
    flagged: int = 0  # lines answered with the emergency instruction
    flagged_right: int = 0
    asked: int = 0
    handed_over: int = 0
    unmapped: list[tuple[int, str]] = field(default_factory=list)
    invalid: list[tuple[int, str]] = field(default_factory=list)
    timings_ms: list[float] = field(default_factory=list)
    groups: Counter = field(default_factory=Counter)  # (gold group, predicted group) -> lines
    misses: list[tuple[Case, list[str]]] = field(default_factory=list)
    missed_emergencies: list[Case] = field(default_factory=list)
    false_alarms: list[tuple[Case, tuple[str, ...]]] = field(default_factory=list)

    def summary(self) -> dict:
        t = sorted(self.timings_ms)
        return {
            "n": self.n,
            "top1": round(self.top1 / self.n, 4) if self.n else None,
            "top3": round(self.top3 / self.n, 4) if self.n else None,
            "red_flag_recall": round(self.flagged_right / self.emergencies, 4) if self.emergencies else None,
            "red_flag_precision": round(self.flagged_right / self.flagged, 4) if self.flagged else None,
            "p99_ms": round(t[int(0.99 * (len(t) - 1))], 2) if t else None,
            "p50_ms": round(t[len(t) // 2], 2) if t else None,
            "emergencies": self.emergencies,
            "asked": self.asked,
            "handed_over": self.handed_over,
            "unmapped": len(self.unmapped),
            "invalid": len(self.invalid),
        }

    def per_group(self) -> list[tuple[str, int, int, float | None, float | None]]:
        """(group, gold lines, predicted lines, precision, recall) per top-level group."""
        gold, pred, right = Counter(), Counter(), Counter()
        for (g, p), n in self.groups.items():
            gold[g] += n
            pred[p] += n
            if g == p:
                right[g] += n
        out = []
        for g in sorted(set(gold) | set(pred)):
            out.append(
                (
                    g,
                    gold[g],
                    pred[g],
                    right[g] / pred[g] if pred[g] else None,
                    right[g] / gold[g] if gold[g] else None,
                )
            )
        return out


def parse(
    lines: Iterable[str], cat: knowledge.Catalogue, *, red_flag: bool = False
) -> tuple[list[Case], Report]:
    report = Report()
    cases = []
    for i, raw in enumerate(lines, start=1):
        raw = raw.strip()
        if not raw:
            continue
        try:
            row = json.loads(raw)
            text = row["text"]
            if not isinstance(text, str):
                raise TypeError("text")
        except (ValueError, KeyError, TypeError) as exc:
            report.invalid.append((i, f"{type(exc).__name__}: {exc}"))
            continue
        wanted = row.get("department")
        wanted = wanted if isinstance(wanted, list) else [wanted] if wanted is not None else []
        emergency = bool(row.get("emergency", red_flag))
        codes = [cat.resolve(str(w)) for w in wanted]
        if emergency and not wanted:
            codes = [EMERGENCY]
        if not codes or any(c is None for c in codes):
            report.unmapped.append((i, json.dumps(wanted, ensure_ascii=False)))
            continue
        age = row.get("age")
        cases.append(
            Case(
                line=i,
                text=text,
                labels=[c for c in codes if c],
                emergency=emergency,
                age=float(age) if isinstance(age, int | float) else None,
                sex=row.get("sex") if row.get("sex") in ("M", "F") else None,
                pregnant=bool(row.get("pregnant")),
            )
        )
    return cases, report


def evaluate(
    lines: Iterable[str], *, red_flag: bool = False, progress: Callable[[int, int], None] | None = None
) -> Report:
    kn = knowledge.knowledge()
    cat = kn.catalogue
    engine.warm()
    cases, report = parse(lines, cat, red_flag=red_flag)
    for k, case in enumerate(cases, start=1):
        started = time.perf_counter()
        a = engine.assess(case.text, age=case.age, sex=case.sex, pregnant=case.pregnant or None, kn=kn)
        report.timings_ms.append((time.perf_counter() - started) * 1000)
        predicted = [s.code for s in a.suggestions]
        report.n += 1
        report.asked += a.outcome is engine.Outcome.ask
        report.handed_over += a.outcome is engine.Outcome.handover
        if case.emergency:
            report.emergencies += 1
        if a.outcome is engine.Outcome.emergency:
            report.flagged += 1
            if case.emergency:
                report.flagged_right += 1
            else:
                report.false_alarms.append((case, a.red_flags))
        elif case.emergency:
            report.missed_emergencies.append(case)

        def right(code: str, labels: list[str] = case.labels) -> bool:
            return any(cat.within(code, label) for label in labels)

        if predicted and right(predicted[0]):
            report.top1 += 1
        else:
            report.misses.append((case, predicted))
        if any(right(c) for c in predicted[:3]):
            report.top3 += 1
        gold = cat.top(case.labels[0])
        for label in case.labels:  # with several labels, the one the prediction is in
            if predicted and cat.within(predicted[0], label):
                gold = cat.top(label)
        report.groups[(gold, cat.top(predicted[0]) if predicted else "-")] += 1
        if progress:
            progress(k, len(cases))
    return report
