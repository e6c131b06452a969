"""Each of the rush's PostgreSQL functions has one source (rush/sql/NAME.sql, rendered by rush/functions.py
with the Python definitions of its rules): the newest migration that creates it holds the same text, so a
change to the function is a change to its file and a migration made from it."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

from zhiyi.domains.scheduling import rules
from zhiyi.domains.scheduling.models import active_booking_sql
from zhiyi.domains.scheduling.rush import functions
from zhiyi.migrations import versions


def _newest_copies() -> dict[str, tuple[str, str]]:
    """Each function's text in the newest migration that declares it (FUNCTIONS), with that
    migration's name."""
    found: dict[str, tuple[str, str]] = {}
    for module in sorted(m.name for m in pkgutil.iter_modules(versions.__path__)):
        declared = getattr(importlib.import_module(f"{versions.__name__}.{module}"), "FUNCTIONS", {})
        for name, text in declared.items():
            found[name] = (module, text)
    return found


@pytest.mark.parametrize("name", functions.names())
def test_the_newest_migration_creates_the_function_as_its_source_says(name):
    copies = _newest_copies()
    assert name in copies, f"no migration creates {name} from its source"
    migration, text = copies[name]
    assert text.strip() == functions.source(name).strip(), (
        f"{name}: rush/sql/{name}.sql differs from migration {migration}; make a migration from it "
        f"(python -m zhiyi.domains.scheduling.rush.functions {name})"
    )


def test_a_rule_is_spelled_by_its_python_definition():
    text = functions.source("scheduling_book_own")
    assert "@ACTIVE_BOOKING" not in text and "@RULE" not in text
    assert active_booking_sql("b.status") in text and active_booking_sql("status") in text
    for rule in functions.RULES:
        assert functions.rule_sql(rule) in text
    for query in functions.QUERIES:
        assert functions.query_sql(query) in text
    # correlated to the function's session, not a second copy of it
    assert "FROM booking AS b WHERE b.patient_id = p_patient AND b.department_id = cs.department_id" in text


def test_a_changed_rule_changes_the_function(monkeypatch):
    """The usual path's expression is the function's: change a rule and the rendered source changes."""
    before = functions.source("scheduling_book_own")
    monkeypatch.setitem(functions.RULES, "session_bookable", rules.session_open(functions._cs))
    after = functions.source("scheduling_book_own")
    assert after != before and "cs.release_at <= p_now" in before and "cs.release_at <= p_now" not in after


def test_an_edited_source_is_caught(tmp_path, monkeypatch):
    """The check can fail: a source one character off the migration's copy is reported."""
    (tmp_path / "scheduling_book_own.sql").write_text(
        (functions.SOURCES / "scheduling_book_own.sql")
        .read_text(encoding="utf-8")
        .replace("'10ms'", "'20ms'"),
        encoding="utf-8",
    )
    monkeypatch.setattr(functions, "SOURCES", tmp_path)
    with pytest.raises(AssertionError, match="differs from migration"):
        test_the_newest_migration_creates_the_function_as_its_source_says("scheduling_book_own")
