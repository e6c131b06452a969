"""Extract every user-facing string into src/zhiyi/locale/messages.pot.

Babel, configured by babel.cfg, finds strings marked with _(), gettext(), N_(),
gettext_noop() and ngettext() in Python code and Jinja2 templates. Domain errors
carry their English text unmarked: as `message = "..."` class attributes, as
FieldError(field, "message", ...) and as the first argument of an error class,
e.g. ProxyRuleViolated("..."). Those are collected here with `ast` and merged in.

Usage:  .venv/bin/python scripts/extract_messages.py
Then translate new msgids in src/zhiyi/locale/{zh_CN,en}/LC_MESSAGES/messages.po
(tests/core/test_i18n.py fails while any msgid lacks a translation).
"""

from __future__ import annotations

import ast
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import write_po

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "zhiyi"
POT = SRC / "locale" / "messages.pot"
KEYWORDS = {"_": None, "gettext": None, "N_": None, "gettext_noop": None, "ngettext": (1, 2)}
# Calls like ProxyRuleViolated("...") take a message: any DomainError subclass, or a
# name with one of these endings that is not a class known to take something else.
ERROR_SUFFIXES = ("Violated", "Forbidden", "Invalid", "NotFound", "Failed", "Conflict", "Exists", "Throttled")


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def babel_messages() -> list[tuple[str, str, int]]:
    """(msgid, file, line) for every marked string; plural pairs become two msgids
    because zhiyi.core.i18n looks singular and plural forms up separately."""
    with (ROOT / "babel.cfg").open() as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    found = []
    for filename, lineno, message, _comments, _context in extract_from_dir(
            ROOT, method_map, options_map, keywords=KEYWORDS):
        for msgid in message if isinstance(message, tuple) else (message,):
            if msgid:
                found.append((msgid, filename, lineno))
    return found


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _text(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _error_classes(trees: dict[Path, ast.Module]) -> tuple[set[str], set[str]]:
    """(DomainError classes whose constructor takes the message first, every other class).
    ResidentIdRuleViolated(reason) or TokenInvalid (not a DomainError) are in the second set."""
    classes = [n for tree in trees.values() for n in ast.walk(tree) if isinstance(n, ast.ClassDef)]
    family = {"DomainError"}
    while True:
        more = {c.name for c in classes if any(_name(b) in family for b in c.bases)} - family
        if not more:
            break
        family |= more
    for c in classes:
        init = next((f for f in c.body if isinstance(f, ast.FunctionDef) and f.name == "__init__"), None)
        params = [a.arg for a in init.args.args[1:]] if init else ["message"]
        if c.name in family and c.name != "DomainError" and params[:1] != ["message"]:
            family.discard(c.name)
    return family, {c.name for c in classes} - family


def error_messages() -> list[tuple[str, str, int]]:
    """(msgid, file, line) for English error texts that no gettext keyword marks."""
    trees = {p: ast.parse(p.read_text(encoding="utf-8"), str(p)) for p in sorted(SRC.rglob("*.py"))}
    errors, others = _error_classes(trees)
    found = []
    for path, tree in trees.items():
        for node in ast.walk(tree):
            texts: list[str | None] = []
            if isinstance(node, ast.ClassDef):  # message = "..." / code, message = "...", "..."
                for stmt in node.body:
                    if not isinstance(stmt, ast.Assign):
                        continue
                    for target in stmt.targets:
                        if isinstance(target, ast.Name) and target.id == "message":
                            texts.append(_text(stmt.value))
                        elif isinstance(target, ast.Tuple) and isinstance(stmt.value, ast.Tuple):
                            texts += [_text(v) for t, v in zip(target.elts, stmt.value.elts, strict=False)
                                      if isinstance(t, ast.Name) and t.id == "message"]
            elif isinstance(node, ast.Call):
                name = _name(node.func) or ""
                if name == "FieldError" and len(node.args) >= 2:
                    texts.append(_text(node.args[1]))
                elif name in errors or (name.endswith(ERROR_SUFFIXES) and name not in others):
                    texts += [_text(node.args[0])] if node.args else []
                    texts += [_text(k.value) for k in node.keywords if k.arg == "message"]
            found += [(t, _rel(path), getattr(node, "lineno", 0)) for t in texts if t]
    return found


def build_catalog() -> Catalog:
    catalog = Catalog(project="Zhiyi", msgid_bugs_address="", copyright_holder="Zhiyi", charset="utf-8")
    for msgid, filename, lineno in babel_messages() + error_messages():
        catalog.add(msgid, locations=[(filename, lineno)])
    return catalog


def msgids() -> list[str]:
    """Every msgid the catalogues must translate."""
    return [m.id for m in build_catalog() if m.id]


def main() -> None:
    catalog = build_catalog()
    with POT.open("wb") as fh:
        write_po(fh, catalog, width=100, sort_output=False)
    print(f"wrote {_rel(POT)}: {sum(1 for m in catalog if m.id)} messages")


if __name__ == "__main__":
    main()
