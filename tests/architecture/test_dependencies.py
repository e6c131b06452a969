"""The dependency rules of STYLE.md, kept true by reading every module's imports."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "zhiyi"
PUBLIC = {"service", "schemas", "events"}


def imports(path: Path) -> list[tuple[str, bool]]:
    """(module, is_top_level) for every import in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(n) for n in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            found += [(n, id(node) in top) for n in names]
        elif isinstance(node, ast.Import):
            found += [(a.name, id(node) in top) for a in node.names]
    return found


def test_core_imports_no_domain_and_no_edge():
    for path in (SRC / "core").rglob("*.py"):
        for mod, _ in imports(path):
            assert not mod.startswith(("zhiyi.domains", "zhiyi.http", "zhiyi.web", "zhiyi.app")), (path, mod)


def test_domains_use_only_public_modules_of_other_domains():
    for path in (SRC / "domains").rglob("*.py"):
        rel = path.relative_to(SRC / "domains").parts
        if len(rel) < 2:
            continue  # domains/registry.py wires domains together by design
        own = rel[0]
        for mod, _ in imports(path):
            parts = mod.split(".")
            if parts[:2] == ["zhiyi", "domains"] and len(parts) >= 4 and parts[2] != own:
                assert parts[3] in PUBLIC, f"{path.relative_to(SRC)} imports {mod}"


def test_no_function_local_imports_of_zhiyi():
    for path in SRC.rglob("*.py"):
        for mod, top in imports(path):
            if mod.startswith("zhiyi") and not top:
                # imports inside `if TYPE_CHECKING:` or try blocks at top level still count as top level
                raise AssertionError(f"function-local import of {mod} in {path.relative_to(SRC)}")


def test_the_edge_and_the_web_shell_import_no_domain():
    """http/ and web/ are plumbing every domain builds on; they ask the domains what they need through
    hooks the registry installs (http/auth.Accounts, web/shortcuts), never by importing them."""
    for folder in ("http", "web"):
        for path in (SRC / folder).rglob("*.py"):
            for mod, _ in imports(path):
                assert not mod.startswith(("zhiyi.domains", "zhiyi.app")), (path.relative_to(SRC), mod)


def test_routes_hold_no_queries():
    for path in SRC.rglob("*.py"):
        if path.name.endswith(("api.py", "web.py", "pages.py")):  # waitlist_web.py, sign_in_web.py too
            text = path.read_text(encoding="utf-8")
            assert "select(" not in text and "session.execute" not in text, path


def test_modules_stay_small():
    for path in SRC.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        lines = len(path.read_text(encoding="utf-8").splitlines())
        assert lines <= 500, f"{path.relative_to(SRC)} has {lines} lines; make it a package"


SQL_BUILDERS = {"select", "text", "insert", "update", "delete", "exists", "union_all"}
# where queries may be written: repositories (core's own tables too: core/audit_repository.py,
# outbox_repository.py, idempotency_repository.py), migrations, the engine's own module, tables' DDL
# (models.py: index predicates), the tools that write their own fixtures and the anchor's statements (bench/,
# demo/), the liveness probe's SELECT 1, and the booking rules the database decides (expressions that
# repositories select and the rush's SQL functions are rendered from)
QUERY_HOMES = (
    "migrations/",
    "bench/",
    "demo/",
    "core/db.py",
    "http/ops.py",
    "domains/scheduling/rules.py",
    "domains/scheduling/rush/functions.py",
)


def query_sites(root: Path) -> list[str]:
    """Calls of SQLAlchemy's statement builders (imported from sqlalchemy in that module) and a session's
    execute/scalar/scalars, in modules that are not homes of queries."""
    found = []
    for path in root.rglob("*.py"):
        rel = path.relative_to(root).as_posix()
        if "repository" in path.name or path.name == "models.py" or rel.startswith(QUERY_HOMES):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        from_sqlalchemy = {
            a.asname or a.name
            for n in ast.walk(tree)
            if isinstance(n, ast.ImportFrom) and (n.module or "").startswith("sqlalchemy")
            for a in n.names
        }
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            f = node.func
            if isinstance(f, ast.Name) and f.id in SQL_BUILDERS and f.id in from_sqlalchemy:
                found.append(f"{rel}:{node.lineno} {f.id}(")
            elif (
                isinstance(f, ast.Attribute)
                and f.attr in ("execute", "scalar", "scalars")
                and "session" in ast.unparse(f.value)
            ):
                found.append(f"{rel}:{node.lineno} .{f.attr}(")
    return found


def test_queries_live_in_repositories():
    assert query_sites(SRC) == []


def test_a_query_outside_a_repository_is_found(tmp_path):
    """The mutation review's misses: a query in waitlist_web.py, and session.scalar(text(...)) in an
    api.py."""
    (tmp_path / "domains" / "x").mkdir(parents=True)
    (tmp_path / "domains" / "x" / "waitlist_web.py").write_text(
        "from sqlalchemy import select\n\n"
        "async def page(session, T):\n    return (await session.scalars(select(T))).all()\n"
    )
    (tmp_path / "domains" / "x" / "api.py").write_text(
        "from sqlalchemy import text\n\n"
        "async def route(session):\n    return await session.scalar(text('SELECT 1'))\n"
    )
    (tmp_path / "domains" / "x" / "forms.py").write_text(
        "def text(element):\n    return element\n\n\ntext('a local text')\n"
    )
    assert sorted(query_sites(tmp_path)) == [
        "domains/x/api.py:4 .scalar(",
        "domains/x/api.py:4 text(",
        "domains/x/waitlist_web.py:4 .scalars(",
        "domains/x/waitlist_web.py:4 select(",
    ]
