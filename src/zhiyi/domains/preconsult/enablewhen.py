"""FHIR R4 `enableWhen` skip logic, evaluated on the server (the browser runs the same rules in
static/zhiyi-questionnaire.js, and the server decides again on every save).

Semantics (Questionnaire.item.enableWhen, enableBehavior):
- an item without enableWhen is enabled; with several conditions, enableBehavior `all` needs every
  one and `any` at least one (a single condition needs no enableBehavior);
- an item is disabled when its parent group is disabled, whatever its own conditions say;
- a condition on a question that is itself disabled sees that question as unanswered (its answer
  may still be held by the browser in case it is enabled again, but it does not count);
- `exists` compares "has at least one answer" with answerBoolean;
- `=` holds when at least one answer equals the expected value; `!=` when there is at least one
  answer and none equals it; `>`, `<`, `>=`, `<=` when at least one answer compares so. An
  unanswered question makes every operator but `exists` false: a follow-up question never appears
  before the question it follows is answered;
- values compare within their kind: numbers (integer and decimal alike), dates, strings, booleans
  (= and != only), codings (= and != only: same code, and the same system when both name one).
  A value of another kind never matches.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal

OPERATORS = ("exists", "=", "!=", ">", "<", ">=", "<=")
ANSWER_KEYS = (
    "answerBoolean",
    "answerDecimal",
    "answerInteger",
    "answerDate",
    "answerString",
    "answerCoding",
)


@dataclass(frozen=True)
class Coding:
    system: str | None
    code: str

    def matches(self, other: Coding) -> bool:
        return self.code == other.code and (
            self.system is None or other.system is None or self.system == other.system
        )


Value = bool | int | float | Decimal | str | dt.date | Coding
Answers = Mapping[str, list[Value]]  # linkId -> the answers given (an empty list: unanswered)


class CycleError(ValueError):
    """Items whose enableWhen conditions depend on each other in a loop."""


def walk(items: list[dict], parent: str | None = None) -> Iterator[tuple[dict, str | None]]:
    """Every item of a questionnaire (depth first) with its parent's linkId."""
    for item in items or []:
        yield item, parent
        yield from walk(item.get("item") or [], item["linkId"])


def expected_value(condition: dict) -> Value:
    """The answer[x] of an enableWhen condition as a Python value."""
    for key in ANSWER_KEYS:
        if key in condition:
            raw = condition[key]
            if key == "answerCoding":
                return Coding(raw.get("system"), raw["code"])
            if key == "answerDate":
                return dt.date.fromisoformat(raw)
            if key == "answerDecimal":
                return Decimal(str(raw))
            return raw
    raise ValueError(f"enableWhen on {condition.get('question')} has no supported answer[x]")


def _kind(v: Value) -> str:
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int | float | Decimal):
        return "number"
    if isinstance(v, dt.date):
        return "date"
    if isinstance(v, Coding):
        return "coding"
    return "string"


def _equal(a: Value, b: Value) -> bool:
    if _kind(a) != _kind(b):
        return False
    if isinstance(a, Coding):
        return a.matches(b)  # type: ignore[arg-type]
    if _kind(a) == "number":
        return Decimal(str(a)) == Decimal(str(b))
    return a == b


def _compare(a: Value, op: str, b: Value) -> bool:
    kind = _kind(a)
    if kind != _kind(b) or kind in ("boolean", "coding"):
        return False
    if kind == "number":
        a, b = Decimal(str(a)), Decimal(str(b))
    return {">": a > b, "<": a < b, ">=": a >= b, "<=": a <= b}[op]  # type: ignore[operator]


def condition_holds(op: str, answers: list[Value], expected: Value) -> bool:
    if op == "exists":
        return bool(answers) == bool(expected)
    if not answers:
        return False
    if op == "=":
        return any(_equal(a, expected) for a in answers)
    if op == "!=":
        return not any(_equal(a, expected) for a in answers)
    if op in (">", "<", ">=", "<="):
        return any(_compare(a, op, expected) for a in answers)
    raise ValueError(f"unknown enableWhen operator {op!r}")


class SkipLogic:
    """Decides which items of one questionnaire are enabled for a set of answers."""

    def __init__(self, items: list[dict]):
        self.items: dict[str, dict] = {}
        self.parents: dict[str, str | None] = {}
        for item, parent in walk(items):
            self.items[item["linkId"]] = item
            self.parents[item["linkId"]] = parent
        self.check_acyclic()

    def depends_on(self, link_id: str) -> list[str]:
        """The items whose state decides this one's: its parent and the questions its conditions ask."""
        item, parent = self.items[link_id], self.parents[link_id]
        return ([parent] if parent else []) + [c["question"] for c in item.get("enableWhen") or []]

    def check_acyclic(self) -> None:
        state: dict[str, int] = {}  # 1 visiting, 2 done

        def visit(link_id: str, path: list[str]) -> None:
            if state.get(link_id) == 2:
                return
            if state.get(link_id) == 1:
                raise CycleError(" -> ".join([*path, link_id]))
            state[link_id] = 1
            for other in self.depends_on(link_id):
                if other in self.items:
                    visit(other, [*path, link_id])
            state[link_id] = 2

        for link_id in self.items:
            visit(link_id, [])

    def enabled(self, answers: Answers) -> set[str]:
        """The linkIds of every enabled item (groups, questions and display items)."""
        memo: dict[str, bool] = {}

        def is_enabled(link_id: str) -> bool:
            if link_id not in memo:
                memo[link_id] = self._decide(link_id, answers, is_enabled)
            return memo[link_id]

        return {link_id for link_id in self.items if is_enabled(link_id)}

    def _decide(self, link_id: str, answers: Answers, is_enabled) -> bool:
        parent = self.parents[link_id]
        if parent is not None and not is_enabled(parent):
            return False
        item = self.items[link_id]
        conditions = item.get("enableWhen") or []
        if not conditions:
            return True
        results = []
        for c in conditions:
            question = c["question"]
            given = (
                list(answers.get(question) or []) if question in self.items and is_enabled(question) else []
            )
            results.append(condition_holds(c["operator"], given, expected_value(c)))
        return any(results) if item.get("enableBehavior") == "any" else all(results)
