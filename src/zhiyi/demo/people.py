"""Deterministic people for the demo: names (Chinese and pinyin), birth dates, resident ID
numbers, phones, insurance and emergency contacts, all from seeded random streams."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import TypeVar

from zhiyi.demo import catalog as cat
from zhiyi.domains.patients import resident_id
from zhiyi.domains.patients.models import Relationship

T = TypeVar("T")


def stream(seed: int, part: str) -> random.Random:
    # str seeds are hashed with SHA-512 by random.Random: stable across processes
    return random.Random(f"zhiyi-demo/{seed}/{part}")


def pick(rng: random.Random, weighted: Sequence[tuple[T, int]]) -> T:
    return rng.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]


def between(rng: random.Random, lo: int, hi: int) -> int:
    """lo..hi inclusive with exactly one draw."""
    return lo + int(rng.random() * (hi - lo + 1))


class Names:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self._surnames = [(zh, py) for zh, py, _ in cat.SURNAMES]
        self._cum = list(accumulate(w for _, _, w in cat.SURNAMES))

    def surname(self) -> tuple[str, str]:
        return self.rng.choices(self._surnames, cum_weights=self._cum)[0]

    def given(self, sex: str, birth_year: int) -> tuple[str, str]:
        gen = cat.generation(birth_year)
        pool = cat.GIVEN[(sex, gen)]
        single = self.rng.random() < {"elder": 0.3, "middle": 0.22, "young": 0.12}[gen]
        chars = [self.rng.choice(pool)] if single else self.rng.sample(pool, 2)
        zh = "".join(c for c, _ in chars)
        py = chars[0][1] + "".join(("'" + p) if p[0] in "aoe" else p for _, p in chars[1:])
        return zh, py.capitalize()

    def person(self, sex: str, birth_year: int, surname: tuple[str, str] | None = None) -> tuple[str, str]:
        s_zh, s_py = surname or self.surname()
        g_zh, g_py = self.given(sex, birth_year)
        return s_zh + g_zh, f"{s_py} {g_py}"


def age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


@dataclass
class Person:
    """A generated patient: the arguments of register_patient plus what relatives need."""

    name: str
    name_en: str
    surname: tuple[str, str]
    sex: str
    birth: dt.date
    id_number: str
    phone: str | None
    address: str
    shanghai: bool
    campus: str
    insurance_type: str
    insurance_number: str | None
    contact_name: str
    contact_phone: str
    contact_relation: str
    mrn: str

    def register_kwargs(self, campus_ids: dict[str, uuid.UUID]) -> dict:
        return dict(
            name=self.name,
            name_en=self.name_en,
            id_number=self.id_number,
            campus_id=campus_ids[self.campus],
            phone=self.phone,
            insurance_type=self.insurance_type,
            insurance_number=self.insurance_number,
            emergency_contact_name=self.contact_name,
            emergency_contact_phone=self.contact_phone,
            emergency_contact_relation=self.contact_relation,
            address=self.address,
            verified=True,
            mrn=self.mrn,
        )


class People:
    """Generates patients one by one, keeping ID numbers, MRNs and phones unique."""

    def __init__(self, rng: random.Random, today: dt.date):
        self.rng = rng
        self.today = today
        self.names = Names(rng)
        self.ids: set[str] = set()
        self.mrns: set[str] = set()
        self.phones: set[str] = set()
        self._regions = [(code, w) for code, _, w in cat.REGIONS]
        self._region_names = {code: name for code, name, _ in cat.REGIONS}
        self._districts = [((d, roads), w) for d, w, roads in cat.SHANGHAI_STREETS]
        self._campuses = [(c.code, c.patient_share) for c in cat.CAMPUSES]

    # -- pieces --------------------------------------------------------------------------

    def birth(self, years_ago: int) -> dt.date:
        year = self.today.year - years_ago
        start = dt.date(year, 1, 1)
        end = self.today if years_ago == 0 else dt.date(year, 12, 31)
        return start + dt.timedelta(days=int(self.rng.random() * ((end - start).days + 1)))

    def phone(self) -> str:
        while True:
            number = f"1{pick(self.rng, cat.MOBILE_SECOND_DIGIT)}{self.rng.randrange(10**9):09d}"
            if number not in self.phones:
                self.phones.add(number)
                return number

    def id_number(self, region: str, birth: dt.date, sex: str) -> str:
        while True:
            n = between(self.rng, 1, 499)
            number = resident_id.make(region, birth, 2 * n - 1 if sex == "M" else 2 * n)
            if number not in self.ids:
                self.ids.add(number)
                return number

    def mrn(self) -> str:
        while True:
            mrn = f"P{self.rng.randrange(10**9):09d}"
            if mrn not in self.mrns:
                self.mrns.add(mrn)
                return mrn

    def address(self, region: str) -> tuple[str, bool]:
        rng = self.rng
        if region.startswith("31") or rng.random() < 0.65:
            district, roads = pick(rng, self._districts)
            road = rng.choice(roads)
            if rng.random() < 0.6:
                return (
                    f"上海市{district}{road}{between(rng, 1, 1999)}弄{between(rng, 1, 40)}号"
                    f"{between(rng, 1, 18)}0{between(rng, 1, 4)}室"
                ), True
            return f"上海市{district}{road}{between(rng, 1, 2999)}号", True
        return f"{self._region_names[region]}{rng.choice(cat.GENERIC_STREETS)}{between(rng, 1, 999)}号", False

    def insurance(self, adult: bool, shanghai: bool, region: str) -> tuple[str, str | None]:
        kind = pick(self.rng, cat.ADULT_INSURANCE if adult else cat.MINOR_INSURANCE)
        if kind == "self_pay":
            return kind, None
        if kind == "commercial":
            return kind, f"CI{self.rng.randrange(10**12):012d}"
        prefix = "31" if shanghai else region[:2]
        return kind, f"{prefix}{self.rng.randrange(10**10):010d}"

    def contact(self, sex: str, birth_year: int, surname: tuple[str, str], age: int) -> tuple[str, str, str]:
        rng = self.rng
        if age < 18:
            relation = Relationship.parent
        elif age < 30:
            relation = pick(
                rng, [(Relationship.parent, 60), (Relationship.spouse, 25), (Relationship.other, 15)]
            )
        elif age < 65:
            older = Relationship.child if age >= 55 else Relationship.parent
            relation = pick(rng, [(Relationship.spouse, 70), (older, 15), (Relationship.other, 15)])
        else:
            relation = pick(
                rng, [(Relationship.child, 60), (Relationship.spouse, 35), (Relationship.other, 5)]
            )
        r = rng.random()
        if relation == Relationship.spouse:
            c_sex, c_year, c_surname = ("F" if sex == "M" else "M"), birth_year + between(rng, -3, 3), None
        elif relation == Relationship.parent:
            c_sex = "M" if r < 0.5 else "F"
            c_year = birth_year - between(rng, 24, 38)
            c_surname = surname if c_sex == "M" else None
        elif relation == Relationship.child:
            c_sex = "M" if r < 0.5 else "F"
            c_year = birth_year + between(rng, 22, 36)
            c_surname = surname if sex == "M" else None
        else:
            c_sex, c_year, c_surname = ("M" if r < 0.5 else "F"), birth_year + between(rng, -10, 10), None
        name, _ = self.names.person(c_sex, min(c_year, self.today.year - 18), c_surname)
        return name, self.phone(), str(relation)

    # -- a whole person ------------------------------------------------------------------

    def make(
        self,
        *,
        years_ago: int | None = None,
        sex: str | None = None,
        surname: tuple[str, str] | None = None,
        campus: str | None = None,
        home: tuple[str, bool] | None = None,
        contact: tuple[str, str, str] | None = None,
    ) -> Person:
        rng = self.rng
        if years_ago is None:
            lo, hi = pick(rng, [((lo, hi), w) for lo, hi, w in cat.AGE_BANDS])
            years_ago = between(rng, lo, hi)
        r = rng.random()
        if sex is None:
            sex = "F" if r < (0.58 if years_ago >= 75 else 0.5) else "M"
        birth = self.birth(years_ago)
        age = age_on(birth, self.today)
        region = pick(rng, self._regions)
        id_number = self.id_number(region, birth, sex)
        surname = surname or self.names.surname()
        name, name_en = self.names.person(sex, birth.year, surname)
        phone = self.phone() if age >= 18 else None
        address, shanghai = home or self.address(region)
        insurance_type, insurance_number = self.insurance(age >= 18, shanghai, region)
        c_name, c_phone, c_relation = contact or self.contact(sex, birth.year, surname, age)
        campus = campus or pick(rng, self._campuses)
        return Person(
            name=name,
            name_en=name_en,
            surname=surname,
            sex=sex,
            birth=birth,
            id_number=id_number,
            phone=phone,
            address=address,
            shanghai=shanghai,
            campus=campus,
            insurance_type=insurance_type,
            insurance_number=insurance_number,
            contact_name=c_name,
            contact_phone=c_phone,
            contact_relation=c_relation,
            mrn=self.mrn(),
        )

    def demo_family(self) -> list[Person]:
        """The demo patient (35-45 calendar years old), their parent (77-84), their child (6-9)
        and a second, unrelated adult for access-control demos."""
        rng = self.rng
        main = cat.MAIN_CAMPUS
        me = self.make(years_ago=between(rng, 35, 45), campus=main)
        home = (me.address, me.shanghai)
        father = rng.random() < 0.5
        parent = self.make(
            years_ago=between(rng, 77, 84),
            sex="M" if father else "F",
            surname=me.surname if father else None,
            campus=main,
            home=home,
            contact=(me.name, me.phone or "", str(Relationship.child)),
        )
        same = me.sex == "M" or rng.random() < 0.5
        child = self.make(
            years_ago=between(rng, 6, 9),
            surname=me.surname if same else None,
            campus=main,
            home=home,
            contact=(me.name, me.phone or "", str(Relationship.parent)),
        )
        other = self.make(years_ago=between(rng, 25, 60), campus=main)
        return [me, parent, child, other]
