"""The import contracts of pyproject.toml ([tool.importlinter], run by import-linter): kept by the tree,
and each one broken on purpose, in a copy of the package with one module added, to prove it can fail."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT = Path(sys.executable).with_name("lint-imports")


def lint(src: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run(
        [str(LINT), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def copy(tmp_path_factory):
    """A copy of the package's Python files (no data), to add a module that breaks a contract."""
    dst = tmp_path_factory.mktemp("contracts") / "zhiyi"
    shutil.copytree(
        ROOT / "src" / "zhiyi",
        dst,
        ignore=shutil.ignore_patterns(
            "*.json",
            "*.jsonl",
            "*.txt",
            "*.po",
            "*.pot",
            "*.html",
            "*.css",
            "*.js",
            "__pycache__",
            "data",
            "static",
        ),
    )
    return dst


def test_the_tree_keeps_every_contract():
    result = lint(ROOT / "src")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "source", "contract"),
    [
        ("core/_probe.py", "from zhiyi.domains.patients import service\n", "Layers"),
        ("http/_probe.py", "from zhiyi.domains.identity import service\n", "Layers"),
        ("domains/patients/_probe.py", "from zhiyi.domains.scheduling import service\n", "Domains"),
        ("domains/triage/_probe.py", "from zhiyi.domains.preconsult import service\n", "Domains"),
        ("http/_probe.py", "import zhiyi.web.forms\n", "Layers"),
    ],
)
def test_each_contract_can_fail(copy, module, source, contract):
    probe = copy / module
    probe.write_text(source)
    try:
        result = lint(copy.parent)
    finally:
        probe.unlink()
    assert result.returncode != 0, result.stdout[-2000:]
    assert any(
        line.startswith(contract) and line.rstrip().endswith("BROKEN") for line in result.stdout.splitlines()
    ), result.stdout[-2000:]


def test_the_cycle_contract_can_fail(copy):
    probes = {
        copy / "domains/scheduling/_probe_a.py": "from zhiyi.domains.scheduling import _probe_b\n",
        copy / "domains/scheduling/_probe_b.py": "from zhiyi.domains.scheduling import _probe_a\n",
    }
    for path, source in probes.items():
        path.write_text(source)
    try:
        result = lint(copy.parent)
    finally:
        for path in probes:
            path.unlink()
    assert any(
        line.startswith("No import cycles") and line.rstrip().endswith("BROKEN")
        for line in result.stdout.splitlines()
    ), result.stdout[-2000:]
