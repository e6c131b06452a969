"""The rush's PostgreSQL functions, each from one source: `sql/<name>.sql`, its rules spelled by the
Python definitions (`@ACTIVE_BOOKING(column)@` is scheduling.models.active_booking_sql(column);
`@RULE(name)@` is the precondition of scheduling/rules.py, compiled for PostgreSQL over the function's
session `cs` with its parameters `p_patient` and `p_now`).

A change to a function is a change to its file and a migration that creates the function as this
module renders it (`python -m zhiyi.domains.scheduling.rush.functions NAME` prints the text for the
migration); tests/domains/scheduling/rush/test_functions.py fails while the newest migration's copy
differs from the file."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from sqlalchemy import literal_column, select
from sqlalchemy.dialects import postgresql

from zhiyi.domains.scheduling import rules
from zhiyi.domains.scheduling.models import ClinicSession, active_booking_sql

SOURCES = Path(__file__).parent / "sql"
_ACTIVE = re.compile(r"@ACTIVE_BOOKING\(([a-z_.]+)\)@")
_RULE = re.compile(r"@RULE\(([a-z_]+)\)@")
_QUERY = re.compile(r"@QUERY\(([a-z_]+)\)@")

# the rules as a function's WHERE reads them: over its session `cs`, for its patient at its time
_cs = ClinicSession.__table__.alias("cs")
_PATIENT, _NOW = literal_column("p_patient"), literal_column("p_now")
RULES = {
    "session_bookable": rules.session_bookable(_cs, _NOW),
    "patient_verified": rules.patient_verified(_PATIENT),
    "booked_that_day": rules.booked_that_day(_PATIENT, _cs.c.department_id, _cs.c.session_on),
    "suspended_until": rules.suspended_until(_PATIENT, _NOW),
}


# the queries as the function asks them: of the place it took (`taken`) on its day (`day`)
QUERIES = {
    "booking_at_same_time": rules.booking_at_same_time(
        _PATIENT,
        literal_column("taken.starts_at"),
        literal_column("taken.ends_at"),
        literal_column("day - 1"),
        literal_column("day + 1"),
    ),
}


def _compiled(statement) -> str:
    return str(statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))


def query_sql(name: str) -> str:
    """A query as PostgreSQL text on one line."""
    return " ".join(_compiled(QUERIES[name]).split())


def rule_sql(name: str) -> str:
    """A rule's condition as PostgreSQL text, correlated to `cs` (compiled inside a query of `cs` whose
    WHERE clause it is, so that a subquery refers to the outer session instead of listing it again)."""
    prefix = "SELECT 1 \nFROM clinic_session AS cs \nWHERE "
    compiled = _compiled(select(literal_column("1")).select_from(_cs).where(RULES[name]))
    if not compiled.startswith(prefix):
        raise ValueError(f"rule {name} did not compile as a condition on cs: {compiled!r}")
    return "(" + " ".join(compiled[len(prefix) :].split()) + ")"


def source(name: str) -> str:
    """The CREATE statement of function `name`, rendered (the file's leading comment left out)."""
    lines = (SOURCES / f"{name}.sql").read_text(encoding="utf-8").splitlines()
    while lines and lines[0].startswith("--"):
        lines.pop(0)
    text = _ACTIVE.sub(lambda m: active_booking_sql(m.group(1)), "\n".join(lines).strip() + "\n")
    text = _RULE.sub(lambda m: rule_sql(m.group(1)), text)
    return _QUERY.sub(lambda m: query_sql(m.group(1)), text)


def names() -> list[str]:
    return sorted(p.stem for p in SOURCES.glob("*.sql"))


if __name__ == "__main__":  # pragma: no cover  (a developer's tool)
    sys.stdout.write(source(sys.argv[1]))
