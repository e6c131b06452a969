"""Triage of single complaints with the shipped knowledge and model: red flags before anything,
the hospital's age, sex and pregnancy rules, questions when unsure, odd input."""

from __future__ import annotations

import pytest

from zhiyi.domains.triage import engine, knowledge
from zhiyi.domains.triage.engine import Outcome

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def tops(a: engine.Assessment) -> list[str]:
    return [knowledge.knowledge().catalogue.top(s.code) for s in a.suggestions]


@pytest.mark.parametrize(
    "text",
    [
        "我爸刚才突然嘴歪了，说话也说不清楚",
        "My mum's face is drooping on one side and her speech is slurred",
        "老人半边身子突然没力气，拿不住筷子",
        "胸口压着疼，一直出冷汗",
        "crushing chest pain going down my left arm and I'm sweating",
        "吃了花生以后嘴唇和喉咙肿了，喘不上气",
        "我不想活了，想自杀",
        "I want to kill myself",
        "吐了好多血",
    ],
)
def test_red_flags_give_the_emergency_instruction(text):
    a = engine.assess(text)
    assert a.outcome is Outcome.emergency, (text, a)
    assert a.red_flags
    assert [s.code for s in a.suggestions] == [engine.EMERGENCY]


def test_infant_fever_is_an_emergency_only_for_infants():
    assert engine.assess("发烧39度", age=0.1).outcome is Outcome.emergency
    assert engine.assess("两个月大的宝宝发烧39度").outcome is Outcome.emergency  # the age read from the text
    assert engine.assess("发烧39度", age=30).outcome is not Outcome.emergency


@pytest.mark.parametrize(
    "text",
    [
        "以前中风过，现在来复查",
        "没有胸痛，只是偶尔心慌",
        "no chest pain, just a cough for a week",
        "有点头痛，两年了",
    ],
)
def test_look_alikes_are_not_emergencies(text):
    assert engine.assess(text).outcome is not Outcome.emergency, text


def test_clear_complaints_find_their_department():
    assert "STOM" in tops(engine.assess("牙疼得厉害，腮帮子都肿了"))[:1]
    assert "DERM" in tops(engine.assess("身上起了好多红疹子，很痒"))[:2]
    assert "OPH" in tops(engine.assess("my eyes are red and itchy and blurry"))[:2]
    assert engine.assess("拉肚子三天了，肚子疼").suggestions[0].code.startswith(("IM.GAST", "INF", "GP"))


def test_children_under_14_go_to_pediatrics():
    child = engine.assess("咳嗽发烧两天", age=5)
    adult = engine.assess("咳嗽发烧两天", age=35)
    assert tops(child)[0] == "PED"
    assert "PED" not in tops(adult)
    assert "child" in child.rules or tops(child)[0] == "PED"


def test_no_gynecology_for_men_and_obstetrics_in_pregnancy():
    man = engine.assess("小肚子疼，下面有点痒", sex="M", age=30)
    assert not any(s.code.startswith("OBGYN") for s in man.suggestions)
    pregnant = engine.assess("怀孕12周，一直恶心呕吐吃不下", sex="F", age=28)
    assert pregnant.suggestions[0].code == "OBGYN.OBS"


def test_reasons_name_the_recognised_symptoms():
    a = engine.assess("头晕，心慌")
    assert a.symptom_ids
    assert all(s.symptom_ids for s in a.suggestions)


@pytest.mark.parametrize("text", ["", "   ", "😀😀🤒🤒", "！！！？？？"])
def test_nothing_medical_hands_over(text):
    a = engine.assess(text)
    assert a.outcome is Outcome.handover


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert('x')</script> 头痛",
        "头痛" * 5000,
        "'; DROP TABLE patient; --",
        "最近headache很厉害, also a bit of 发烧",
        "\x00\x01\u202e咳嗽",
    ],
)
def test_odd_input_gets_an_answer(text):
    a = engine.assess(text)
    assert a.outcome in set(Outcome)


def test_unsure_asks_questions_then_decides():
    a = engine.assess("不舒服")
    assert a.outcome in (Outcome.ask, Outcome.handover)
    if a.outcome is Outcome.ask:
        assert a.questions
        again = engine.assess(
            "不舒服",
            answers={
                q: "days" if q == "duration" else "yes" if q == "fever" else "chest" for q in a.questions
            },
        )
        assert again.outcome is not Outcome.ask


def test_a_lasting_condition_is_not_an_emergency_but_something_new_is():
    assert engine.assess("我妈去年中风了，右边手脚没力气，想做康复").outcome is not Outcome.emergency
    assert engine.assess("去年中风过，今天早上突然右手没劲，拿不住碗").outcome is Outcome.emergency
    assert (
        engine.assess(
            "my dad's speech is still slurred since his stroke in March, wants speech therapy"
        ).outcome
        is not Outcome.emergency
    )


def test_red_flag_words_said_strongly_or_typed_with_curly_quotes_still_count():
    assert engine.assess("胸口好痛，还一直出冷汗").outcome is Outcome.emergency
    assert engine.assess("I can\u2019t breathe and my lips are turning blue").outcome is Outcome.emergency


def test_an_age_in_months_beats_an_age_of_zero_years():
    assert engine.assess("儿子8个月，有点低烧37.8", age=0).outcome is not Outcome.emergency
    assert engine.assess("宝宝出生20天，发烧38度", age=0).outcome is Outcome.emergency


# --- review fixes: code paths that used to skip a red flag ----------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "not sure why my face is drooping",  # "not sure" is no denial of what follows
        "no idea why my face is drooping",
        "半小时之前突然口角歪斜",  # "之前" after a recent time is now, not past history
        "10分钟之前突然一侧手脚无力",
        "in the past 30 minutes my face is drooping",
        "之前好好的突然胸口剧痛大汗",
        "时不时胸口剧痛出冷汗",  # 不时 is "now and then", not a negation
    ],
)
def test_cues_that_only_look_like_negation_or_history_do_not_hide_a_red_flag(text):
    a = engine.assess(text)
    assert a.outcome is Outcome.emergency and a.red_flags != ("classifier",), (text, a)


def test_a_fever_answered_to_the_question_counts_for_a_young_infant():
    assert engine.assess("宝宝哭闹", age=0.1, answers={"fever": "yes"}).outcome is Outcome.emergency
    assert engine.assess("宝宝哭闹", age=0.1, answers={"fever": "no"}).outcome is not Outcome.emergency


def test_an_infant_age_in_the_text_counts_when_a_parent_asks_as_themselves():
    a = engine.assess("我家2个月大的宝宝发烧38.5度", age=35.0, sex="F")
    assert a.outcome is Outcome.emergency and "young_infant_fever" in a.red_flags


def test_pregnancy_in_the_text_counts_whoever_types_it():
    a = engine.assess("我老婆怀孕32周，阴道出血很多", age=33.0, sex="M")
    assert a.outcome is Outcome.emergency and "pregnancy_emergency" in a.red_flags


def test_a_child_described_by_an_adult_is_routed_as_a_child():
    a = engine.assess("我儿子5岁，咳嗽有痰好几天了", age=35, sex="F")
    assert tops(a)[0] == "PED"
