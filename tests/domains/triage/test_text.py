"""Reading a complaint: normal form, language, negation, past history, ages in the text."""

from __future__ import annotations

import pytest

from zhiyi.domains.triage import text as T


def at(text: str, term: str) -> tuple[bool, bool]:
    n = T.normalize(text)
    i = n.index(term)
    return T.negated(n, i), T.historical(n, i)


@pytest.mark.parametrize(
    ("text", "term", "negated"),
    [
        ("没有胸痛", "胸痛", True),
        ("无发热，咳嗽三天", "发热", True),
        ("无发热，咳嗽三天", "咳嗽", False),  # the negation ends at the comma
        ("胸痛没有缓解", "胸痛", False),  # a cue after the term does not negate it
        ("不知道为什么胸痛", "胸痛", False),  # 不知道 is not a negation of the complaint
        ("否认头痛", "头痛", True),
        ("no chest pain, just a cough", "chest pain", True),
        ("no chest pain, just a cough", "cough", False),
        ("I have chest pain", "chest pain", False),
        ("not really any chest pain", "chest pain", True),
        ("no fever but a bad headache", "headache", False),  # "but" closes the negation
        ("not sure why my face is drooping", "face", False),  # pseudo-negations deny nothing
        ("no idea why my chest hurts", "chest", False),
        ("not feeling well with chest pain", "chest pain", False),
        ("时不时胸痛", "胸痛", False),
        ("没法呼吸", "呼吸", False),
    ],
)
def test_negation(text, term, negated):
    assert at(text, term)[0] is negated


@pytest.mark.parametrize(
    ("text", "term", "historical"),
    [
        ("以前中风过，现在来复查", "中风", True),
        ("去年中风，今天突然说话不清", "说话不清", False),
        ("history of stroke, here for follow-up", "stroke", True),
        ("sudden weakness of my left arm", "weakness", False),
        ("一个小时之前突然胸痛", "胸痛", False),  # a recent time is not history
        ("in the past hour crushing chest pain", "chest pain", False),
        ("previously healthy now chest pain", "chest pain", False),
        ("十年之前中风过", "中风", True),
    ],
)
def test_past_history(text, term, historical):
    assert at(text, term)[1] is historical


@pytest.mark.parametrize(
    ("text", "years"),
    [
        ("3个月大的宝宝发烧", 0.25),
        ("出生20天，一直哭", 20 / 365),
        ("两个月大宝宝发烧", 2 / 12),
        ("我儿子5岁，咳嗽", 5.0),
        ("my 2 week old is very hot", 2 / 52),
        ("my 3 year old son has a rash", 3.0),
        ("aged 70, dizzy", 70.0),
        ("新生儿黄疸", 0.02),
    ],
)
def test_age_in_text(text, years):
    assert T.age_from_text(T.normalize(text)) == pytest.approx(years, rel=0.01)


@pytest.mark.parametrize("text", ["咳嗽3天", "fever for 3 days", "headache for 5 years", "痛了两周"])
def test_durations_are_not_ages(text):
    assert T.age_from_text(T.normalize(text)) is None


def test_normal_form_and_language():
    assert T.normalize("ＨＥＡＤＡＣＨＥ　很厉害😀") == "headache 很厉害"
    assert T.language(T.normalize("最近headache很厉害")) == "zh"
    assert T.language(T.normalize("my stomach hurts, 有点恶心")) == "en"
    assert not T.has_content(T.normalize("😀😀🤒🤒 !!! 123"))
    assert T.has_content(T.normalize("<script>alert(1)</script>"))


def test_tokens_keep_words_and_character_pairs():
    toks = T.tokens(T.normalize("拉肚子三天, fever"))
    assert "fever" in toks and "肚子" in toks


@pytest.mark.parametrize(
    ("text", "years"), [("老太太九十岁不到", 90.0), ("八十五岁", 85.0), ("十二岁", 12.0), ("半岁的宝宝", 0.5)]
)
def test_chinese_numbers_are_read_whole(text, years):
    assert T.age_from_text(T.normalize(text)) == pytest.approx(years)
