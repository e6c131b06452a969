"""The hospital's rules on a ranked list of departments: children under 14 to Pediatrics unless
their condition needs another specialty, adults out of the pediatric clinics, no Gynecology or
Obstetrics for male patients and no Andrology for female ones, pregnancy-related to Obstetrics."""

from __future__ import annotations

CHILD_AGE = 14
# specialties that see children themselves (eye, ear-nose-throat, teeth, skin, bones, mind, emergencies)
CHILDREN_KEEP = (
    "PED",
    "OPH",
    "ENT",
    "STOM",
    "DERM",
    "SURG.ORTH",
    "SURG.NEURO",
    "PSY",
    "EM",
    "REHAB",
    "OBGYN.GYN",
)
CHILD_MAP = {
    "IM.RESP": "PED.RESP",
    "SURG": "PED.SURG",
    "SURG.GEN": "PED.SURG",
    "SURG.URO": "PED.SURG",
    "ANDRO": "PED.SURG",
    "SURG.THOR": "PED.SURG",
    "SURG.BRST": "PED.SURG",
}
ADULT_MAP = {"PED.RESP": "IM.RESP", "PED.SURG": "SURG.GEN", "PED.GEN": "GP", "PED": "GP"}
OBSTETRIC_FROM = ("OBGYN.GYN", "OBGYN", "OBGYN.REPRO", "IM.GAST", "SURG.GEN", "GP", "SURG.URO")


def _under(code: str, prefixes: tuple[str, ...]) -> bool:
    return any(code == p or code.startswith(p + ".") for p in prefixes)


def child(code: str) -> str:
    if _under(code, CHILDREN_KEEP):
        return code
    return CHILD_MAP.get(code, "PED.GEN")


def adult(code: str) -> str:
    return ADULT_MAP.get(code, code)


def apply(
    scores: dict[str, float],
    *,
    age_years: float | None,
    sex: str | None,
    pregnant: bool,
    pregnancy_related: bool,
) -> tuple[dict[str, float], list[str]]:
    """The scores after the rules (merged where two departments become one), and the rules that
    changed something ("child", "adult", "male", "female", "pregnancy")."""
    applied: list[str] = []
    out: dict[str, float] = {}
    for code, score in scores.items():
        new = code
        if age_years is not None and age_years < CHILD_AGE:
            new = child(code)
            if new != code:
                applied.append("child")
        elif age_years is not None:
            new = adult(code)
            if new != code:
                applied.append("adult")
        if sex == "M" and _under(new, ("OBGYN",)):
            applied.append("male")
            new = "SURG.URO" if code in ("OBGYN.REPRO",) else ""
        if sex == "F" and new == "ANDRO":
            applied.append("female")
            new = "SURG.URO"
        if pregnant and pregnancy_related and sex != "M" and new in OBSTETRIC_FROM:
            applied.append("pregnancy")
            new = "OBGYN.OBS"
        if new:
            out[new] = out.get(new, 0.0) + score
    if pregnant and pregnancy_related and sex != "M" and "OBGYN.OBS" not in out:
        out["OBGYN.OBS"] = max(out.values(), default=0.5)
        applied.append("pregnancy")
    total = sum(out.values()) or 1.0
    return {c: s / total for c, s in out.items()}, list(dict.fromkeys(applied))
