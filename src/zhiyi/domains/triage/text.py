"""Reading what a patient typed: one normal form, clauses, Chinese word segmentation (jieba),
English words, negation and past-history cues, and ages written into the text ("3个月大",
"my 2 week old")."""

from __future__ import annotations

import functools
import logging
import re
import unicodedata

import jieba

MAX_CHARS = 2000  # longer input is refused (a complaint, not a record)

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CJK_RUN = re.compile(f"[{_CJK}]+")
WORD = re.compile(r"[a-z][a-z'\-]*[a-z]|[a-z]|\d+(?:\.\d+)?")
# clause boundaries: punctuation, and "but" in both languages (a negation does not reach past them)
CLAUSE = re.compile(r"[,.;:!?，。；：！？、\n\r\t()（）]|\bbut\b|\bhowever\b|但是|可是|不过|但|然而")

# a cue at the end of the text before a term (in its clause) negates it
_NEG_ZH = re.compile(
    r"(没有|没|無|无|否认|未曾|未|并非|不是|并无|从不|从没|不)(任何|什么|明显|出现|感到|觉得|有)?[^，。]{0,2}$"
)
_NEG_EN = re.compile(
    r"\b(no|not|without|denies|deny|denied|never|none|nor|free of|don't have|do not have|"
    r"doesn't have|does not have|didn't have|haven't had|no sign of|no signs of|negative for)"
    r"(\s+\w+){0,3}\s*$"
)
_NEG_ZH_FALSE = (
    "不知道",
    "不舒服",
    "不停",
    "不了",
    "不好",
    "不住",
    "不少",
    "不断",
    "不知",
    "不行",
    "不清楚为什么",
    "不一定",
    "不能",
    "不会",
    "不时",
    "没事",
    "没法",
    "没办法",
)
# English cues that do not deny what follows ("not sure why my face is drooping")
_NEG_EN_FALSE = (
    "not sure",
    "not certain",
    "no idea",
    "not know",
    "don't know",
    "do not know",
    "not feeling",
    "no reason",
    "not only",
    "no matter",
    "not well",
)
# a cue before a term in its clause says it is past history, not what is happening now
# recent times are not history: "一个小时之前", "in the past hour", "previously well"
_RECENT = re.compile(
    r"(?:\d+|[一两二三四五六七八九十几半]+)\s*(?:个)?多?\s*(?:分钟|分|小时|钟头|天|日)(?:之前|以前)"
    r"|\bin the (?:past|last) (?:(?:few|couple of|\d+|one|two|three|several) )?"
    r"(?:minutes?|mins?|hours?|hrs?|days?)\b|previously (?:well|healthy|fine)|之前(?:都)?好好的"
)
_HISTORY = re.compile(
    r"(以前|之前|曾经|曾|去年|前年|多年前|年前|既往|病史|history of|\bhad an? \w+ (?:last|years?)|"
    r"years ago|last year|previous|previously|in the past|复查|随访|follow[- ]up)"
)
# ages, not durations: "3个月大", "出生20天", "20天的宝宝", "3岁", "2 week old", "aged 5", "5 month baby"
_KID = r"(?:的)?(?:宝宝|孩子|婴儿|小孩|女儿|儿子|娃|baby|infant|son|daughter|kid|child|boy|girl)"
_AGE = re.compile(
    r"出生\s*(?P<a>\d{1,3})\s*(?P<au>天|周|个月|个多月)"
    r"|(?P<b>\d{1,3})\s*(?P<bu>天|周|个月|个多月|月龄)\s*(?:大|" + _KID + r")"
    r"|(?P<c>\d{1,3})\s*(?P<cu>岁)"
    r"|(?P<d>\d{1,3})\s*[- ]?\s*(?P<du>days?|weeks?|months?|years?|yrs?|y/o|yo)\s*[- ]?\s*old"
    r"|(?P<e>\d{1,3})\s*[- ]?\s*(?P<eu>days?|weeks?|months?)\s*[- ]?\s*(?:old\s*)?"
    + _KID
    + r"|\baged?\s*(?P<f>\d{1,3})"
    r"|" + _KID + r"\s*(?:才|刚)?\s*(?P<g>\d{1,3})\s*(?P<gu>天|周|个月|个多月)",
    re.I,
)
_CN_NUM = {
    "一": 1,
    "两": 2,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "半": 0.5,
}
_AGE_CN = re.compile(
    r"(?<![一二两三四五六七八九十百])(?P<n>[一二两三四五六七八九]?十[一二三四五六七八九]?|[一两二三四五六七八九半])"
    r"\s*(?:(?P<u>个月|个多月|周|天)\s*(?:大|" + _KID + r")|(?P<y>岁))"
)
_NEWBORN = re.compile(r"新生儿|刚出生|出生不久|newborn|new-born|neonate")


# phones type curly quotes
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})


def normalize(text: str) -> str:
    """NFKC (full-width letters and digits to half-width), lower case, spaces collapsed;
    characters that are not letters, digits, CJK or punctuation (emoji, symbols, controls)
    become spaces."""
    text = unicodedata.normalize("NFKC", text).lower().translate(_QUOTES)
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat[0] in "LNP" or ch in " '-":
            out.append(ch)
        else:
            out.append(" ")
    return re.sub(r"\s+", " ", "".join(out)).strip()


def has_content(text: str) -> bool:
    """Letters or CJK characters in it (not only emoji, digits and punctuation)."""
    return any(unicodedata.category(ch)[0] == "L" for ch in text)


def cjk_share(text: str) -> float:
    letters = [ch for ch in text if unicodedata.category(ch)[0] == "L"]
    if not letters:
        return 0.0
    return sum(1 for ch in letters if CJK_RUN.match(ch)) / len(letters)


def language(text: str) -> str:
    """'zh' when Chinese characters make up at least a third of the letters, else 'en'."""
    return "zh" if cjk_share(text) >= 1 / 3 else "en"


_DEGREE = re.compile(
    f"(?<=[{_CJK}])(?:特别|非常|十分|极其|超级|有点儿|有点|有些|老是|好|很|太|挺|蛮|真|超)(?=[{_CJK}])"
)


def without_degree_words(text: str) -> str:
    """The text without intensifiers between Chinese characters ("胸口好痛" -> "胸口痛"), so a
    red-flag phrase matches however strongly it was said."""
    return _DEGREE.sub("", text)


def clause_start(text: str, pos: int) -> int:
    """Where the clause holding `pos` begins."""
    start = 0
    for m in CLAUSE.finditer(text, 0, pos):
        start = m.end()
    return start


def negated(text: str, start: int) -> bool:
    """Whether the term at `start` is negated by a cue before it in its clause."""
    before = text[clause_start(text, start) : start]
    if not before.strip():
        return False
    tail = before.rstrip()
    m = _NEG_EN.search(tail)
    while m is not None:
        if not tail[m.start() :].startswith(_NEG_EN_FALSE):
            return True
        m = _NEG_EN.search(tail, m.start() + 1)
    m = _NEG_ZH.search(tail)
    if m is None:
        return False
    rest = tail[m.start() :]
    return not any(rest.startswith(f) for f in _NEG_ZH_FALSE)


def historical(text: str, start: int) -> bool:
    """Whether the clause before the term at `start` says it is past history."""
    return bool(_HISTORY.search(_RECENT.sub(" ", text[clause_start(text, start) : start])))


@functools.cache
def _jieba() -> jieba.Tokenizer:
    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


def add_words(words: list[str]) -> None:
    """Teach the segmenter the lexicon's terms, so "拉肚子" stays one word."""
    tok = _jieba()
    for w in words:
        if CJK_RUN.fullmatch(w) and len(w) >= 2:
            tok.add_word(w, freq=2000)


def _english(chunk: str) -> list[str]:
    """English words, a plural also as its singular ("eyes" -> "eyes", "eye")."""
    out = []
    for w in WORD.findall(chunk):
        out.append(w)
        if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
            out.append(w[:-1])
    return out


def tokens(text: str) -> list[str]:
    """Words of a normalized text: jieba words for Chinese runs (plus their character bigrams,
    which survive segmentation mistakes and typos), English words and numbers."""
    out: list[str] = []
    pos = 0
    tok = _jieba()
    for m in CJK_RUN.finditer(text):
        out.extend(_english(text[pos : m.start()]))
        run = m.group()
        out.extend(tok.lcut(run, HMM=True))
        out.extend(run[i : i + 2] for i in range(len(run) - 1))
        pos = m.end()
    out.extend(_english(text[pos:]))
    return out


def age_from_text(text: str) -> float | None:
    """An age in years written into the text, when there is one (the youngest mentioned)."""
    ages: list[float] = []
    for m in _AGE.finditer(text):
        for n, u in (
            ("a", "au"),
            ("b", "bu"),
            ("c", "cu"),
            ("d", "du"),
            ("e", "eu"),
            ("f", None),
            ("g", "gu"),
        ):
            if m.group(n):
                ages.append(_years(float(m.group(n)), (m.group(u) or "岁").lower() if u else "岁"))
    for m in _AGE_CN.finditer(text):
        ages.append(_years(_chinese_number(m.group("n")), m.group("u") or "岁"))
    if _NEWBORN.search(text):
        ages.append(0.02)
    plausible = [a for a in ages if 0 <= a <= 120]
    return min(plausible) if plausible else None


def _chinese_number(text: str) -> float:
    """一 .. 九十九 (and 半) as a number: "九十" -> 90, "十二" -> 12, "两" -> 2."""
    if "十" not in text:
        return float(_CN_NUM.get(text, 0))
    tens, _, ones = text.partition("十")
    return float(_CN_NUM.get(tens, 1) * 10 + _CN_NUM.get(ones, 0))


def _years(n: float, unit: str) -> float:
    if unit.startswith(("个月", "个多月", "月龄", "month", "mo")):
        return n / 12
    if unit.startswith(("周", "week", "wk")):
        return n / 52
    if unit.startswith(("天", "day")):
        return n / 365
    return n
