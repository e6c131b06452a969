"""Resident ID numbers (GB 11643): structure, birth date, checksum (no database)."""

from __future__ import annotations

import datetime as dt

import pytest

from zhiyi.domains.patients import resident_id as rid


def test_known_valid_number_with_x_check():
    parsed = rid.parse("11010519491231002x")  # lower-case x accepted and normalised
    assert parsed.number == "11010519491231002X"
    assert parsed.birth_date == dt.date(1949, 12, 31)
    assert parsed.sex == "F"  # sequence 002 is even
    assert parsed.last4 == "002X"


@pytest.mark.parametrize(
    "raw,reason",
    [
        ("", "length"),
        ("1101051949123100", "length"),
        ("11010519491231002X1", "length"),
        ("1101051949123100２X", "characters"),  # a full-width digit
        ("A1010519491231002X", "characters"),
        ("00010519491231002X", "region"),
        ("110105194902300021", "birth_date"),  # 30 February
        ("110105187001010012", "birth_date"),  # before 1880
        ("11010519491231002Y", "characters"),
        ("110105194912310021", "checksum"),
    ],
)
def test_invalid_numbers_say_why(raw, reason):
    with pytest.raises(rid.ResidentIdInvalid) as err:
        rid.parse(raw, today=dt.date(2026, 1, 1))
    assert err.value.reason == reason


def test_future_birth_date_is_invalid():
    number = rid.make("310104", dt.date(2030, 1, 1), 11)
    with pytest.raises(rid.ResidentIdInvalid, match="birth_date"):
        rid.parse(number, today=dt.date(2026, 1, 1))


@pytest.mark.parametrize("seq,sex", [(1, "M"), (2, "F"), (999, "M"), (100, "F")])
def test_made_numbers_round_trip(seq, sex):
    number = rid.make("330106", dt.date(1990, 7, 15), seq)
    parsed = rid.parse(number, today=dt.date(2026, 1, 1))
    assert parsed.sex == sex and parsed.birth_date == dt.date(1990, 7, 15)
    # any single changed digit breaks the checksum
    broken = number[:5] + str((int(number[5]) + 1) % 10) + number[6:]
    with pytest.raises(rid.ResidentIdInvalid):
        rid.parse(broken, today=dt.date(2026, 1, 1))
