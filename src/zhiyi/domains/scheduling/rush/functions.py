"""The rush's PostgreSQL functions, each from one source: `sql/<name>.sql`, its rules spelled by the
Python definitions (`@ACTIVE_BOOKING(column)@` is scheduling.models.active_booking_sql(column)).

A change to a function is a change to its file and a migration that creates the function as this
module renders it (`python -m zhiyi.domains.scheduling.rush.functions NAME` prints the text for the
migration); tests/domains/scheduling/rush/test_functions.py fails while the newest migration's copy
differs from the file."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from zhiyi.domains.scheduling.models import active_booking_sql

SOURCES = Path(__file__).parent / "sql"
_RULE = re.compile(r"@ACTIVE_BOOKING\(([a-z_.]+)\)@")


def source(name: str) -> str:
    """The CREATE statement of function `name`, rendered (the file's leading comment left out)."""
    lines = (SOURCES / f"{name}.sql").read_text(encoding="utf-8").splitlines()
    while lines and lines[0].startswith("--"):
        lines.pop(0)
    return _RULE.sub(lambda m: active_booking_sql(m.group(1)), "\n".join(lines).strip() + "\n")


def names() -> list[str]:
    return sorted(p.stem for p in SOURCES.glob("*.sql"))


if __name__ == "__main__":  # pragma: no cover  (a developer's tool)
    sys.stdout.write(source(sys.argv[1]))
