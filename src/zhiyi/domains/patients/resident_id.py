"""Chinese resident identity numbers (GB 11643-1999).

18 characters: a 6-digit region code, an 8-digit birth date, a 3-digit sequence
(odd for men, even for women) and a check character by ISO 7064 MOD 11-2 (0-9 or X).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]
CHECK = "10X98765432"
PROVINCES = {
    11,
    12,
    13,
    14,
    15,
    21,
    22,
    23,
    31,
    32,
    33,
    34,
    35,
    36,
    37,
    41,
    42,
    43,
    44,
    45,
    46,
    50,
    51,
    52,
    53,
    54,
    61,
    62,
    63,
    64,
    65,
    71,
    81,
    82,
    83,
}


class ResidentIdInvalid(ValueError):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason  # length | characters | region | birth_date | checksum


@dataclass(frozen=True)
class ResidentId:
    number: str
    birth_date: dt.date
    sex: str  # M | F

    @property
    def last4(self) -> str:
        return self.number[-4:]

    @property
    def masked(self) -> str:
        return self.number[:3] + "*" * 11 + self.number[-4:]


def check_char(first17: str) -> str:
    return CHECK[sum(int(c) * w for c, w in zip(first17, WEIGHTS, strict=True)) % 11]


def parse(raw: str, *, today: dt.date | None = None) -> ResidentId:
    number = raw.strip().upper()
    if len(number) != 18:
        raise ResidentIdInvalid("length")
    if (
        not number[:17].isascii()
        or not number[:17].isdigit()
        or not (number[17].isdigit() or number[17] == "X")
    ):
        raise ResidentIdInvalid("characters")
    if int(number[:2]) not in PROVINCES:
        raise ResidentIdInvalid("region")
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ResidentIdInvalid("birth_date") from None
    if birth.year < 1880 or birth > (today or dt.date.today()):
        raise ResidentIdInvalid("birth_date")
    if check_char(number[:17]) != number[17]:
        raise ResidentIdInvalid("checksum")
    return ResidentId(number=number, birth_date=birth, sex="M" if int(number[16]) % 2 else "F")


def make(region: str, birth: dt.date, sequence: int) -> str:
    """Build a valid number (for demo data and tests)."""
    first17 = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return first17 + check_char(first17)
